//! The application side of TCP connections on worker threads (`analyze --threads`): TLS
//! decryption, HTTP/1, HTTP/2 and HPACK, DNS over TCP and bodies' decoding, each
//! connection pinned to one worker (by its id), as flow-pinned workers are in Suricata.
//!
//! The analyzer's thread keeps everything that orders the capture: the packets, the flow
//! table and its reassembly, the DNS log, QUIC. What it would hand a connection's
//! dissectors ([`TcpHandler`]: opened, the next bytes of a direction, a gap, closed, a
//! warning) it sends to that connection's worker instead, batched, with the frame being
//! handled; key log text goes to every worker where it stood among them. A connection's
//! dissectors move to its worker, as they stand, once it has carried 64 KiB
//! ([`super::stream::MOVE_AFTER`]): one that carries less (a SYN flood, a slowloris, a DNS
//! query over TCP, a small request) stays, and costs neither a copy nor a wait. A worker runs the same [`StreamDriver`] on
//! the same calls in the same order, so each connection's dissectors end in the same state
//! as on one thread. When the flow table hands out connections that ended, the analyzer
//! takes their dissectors back (each worker having done everything sent before; one wait
//! per worker for all of them) and builds their reports as on one thread: the report is the
//! same byte for byte.
//!
//! Memory: a worker's queue holds at most [`DEPTH`] batches of [`BATCH_BYTES`], and the
//! analyzer blocks when it is full.

use std::collections::HashMap;
use std::sync::mpsc::{channel, sync_channel, Receiver, RecvTimeoutError, Sender, SyncSender};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::Duration;

use crate::decrypt::KeyLog;
use crate::net::flow::Dir;
use crate::tcp::TcpHandler;
use crate::time::Ts;
use crate::warning::WarningKind;

use super::stream::{StreamDriver, TcpApp};

/// Payload bytes a batch gathers before it is sent.
const BATCH_BYTES: usize = 256 << 10;
/// Messages a batch gathers before it is sent (many small segments).
const BATCH_MSGS: usize = 2048;
/// Batches in a worker's queue.
const DEPTH: usize = 4;

enum Msg {
    /// A connection's dissectors, as they stand, to run here from now on.
    Open {
        id: u64,
        app: Box<TcpApp>,
    },
    /// A call of [`TcpHandler`] for connection `id`, made while `frame` was handled.
    Conn {
        id: u64,
        frame: u64,
        call: Call,
    },
    KeyText(Arc<str>),
    KeysGrowing,
    /// Hand the connection's dissectors back.
    Take(u64),
}

/// The [`TcpHandler`] calls after `open` and `segment`.
pub enum Call {
    /// `bytes[start..start + len]` of the batch.
    Data {
        dir: Dir,
        ts: Ts,
        start: usize,
        len: usize,
        late: bool,
    },
    Gap {
        dir: Dir,
        len: u64,
        ts: Ts,
    },
    Closed {
        ts: Ts,
    },
    Warn {
        kind: WarningKind,
        message: std::borrow::Cow<'static, str>,
    },
}

#[derive(Default)]
struct Batch {
    msgs: Vec<Msg>,
    bytes: Vec<u8>,
}

struct Lane {
    /// `None` once closed (dropping it ends the worker).
    tx: Option<SyncSender<Batch>>,
    batch: Batch,
    /// Batches the worker emptied, to fill again.
    spent: Receiver<Batch>,
    thread: Option<JoinHandle<()>>,
}

/// The workers of one analyzer.
pub struct AppWorkers {
    lanes: Vec<Lane>,
    taken: Receiver<(u64, Option<TcpApp>)>,
    /// Bytes a connection carries before it moves here.
    pub move_after: u64,
}

impl AppWorkers {
    /// `n` workers (at least one); `None` when the system would not start them (the
    /// analysis then runs on its own thread, as with none asked for).
    pub fn new(n: usize, body_hash: bool, move_after: u64) -> Option<AppWorkers> {
        let (give, taken) = channel();
        let lanes = (0..n.max(1))
            .map(|i| {
                let (tx, rx) = sync_channel::<Batch>(DEPTH);
                let (spent_tx, spent) = sync_channel::<Batch>(DEPTH + 1);
                let give = give.clone();
                let thread = std::thread::Builder::new()
                    .name(format!("pagetrace-app{i}"))
                    .spawn(move || work(rx, spent_tx, give, body_hash))
                    .ok()?;
                Some(Lane {
                    tx: Some(tx),
                    batch: Batch::default(),
                    spent,
                    thread: Some(thread),
                })
            })
            // Dropped on a failure, the lanes already made end their threads.
            .collect::<Option<Vec<Lane>>>()?;
        Some(AppWorkers {
            lanes,
            taken,
            move_after,
        })
    }

    fn lane(&mut self, id: u64) -> &mut Lane {
        let n = self.lanes.len() as u64;
        &mut self.lanes[(id % n) as usize]
    }

    fn push(&mut self, id: u64, m: Msg) {
        let lane = self.lane(id);
        lane.batch.msgs.push(m);
        if lane.batch.msgs.len() >= BATCH_MSGS || lane.batch.bytes.len() >= BATCH_BYTES {
            lane.flush();
        }
    }

    /// Key log text, for every worker after what each was sent before.
    pub fn key_text(&mut self, text: &str) {
        let text: Arc<str> = Arc::from(text);
        for lane in &mut self.lanes {
            lane.batch.msgs.push(Msg::KeyText(text.clone()));
        }
    }

    /// [`KeyLog::set_growing`], for every worker.
    pub fn keys_growing(&mut self) {
        for lane in &mut self.lanes {
            lane.batch.msgs.push(Msg::KeysGrowing);
        }
    }

    /// Puts back the dissectors of every stand-in among `apps` that has them on a worker,
    /// once each worker has done all it was sent before.
    pub fn take_back<'a>(&mut self, apps: impl Iterator<Item = &'a mut TcpApp>) {
        let mut waiting: Vec<&mut TcpApp> = apps.filter(|a| a.on_worker().is_some()).collect();
        if waiting.is_empty() {
            return;
        }
        let mut asked = vec![false; self.lanes.len()];
        for a in &waiting {
            let id = a.on_worker().unwrap_or_default();
            let i = (id % self.lanes.len() as u64) as usize;
            self.lanes[i].batch.msgs.push(Msg::Take(id));
            asked[i] = true;
        }
        for (lane, asked) in self.lanes.iter_mut().zip(asked) {
            if asked {
                lane.flush();
            }
        }
        let mut back: HashMap<u64, TcpApp> = HashMap::with_capacity(waiting.len());
        while back.len() < waiting.len() {
            match self.taken.recv_timeout(Duration::from_millis(200)) {
                Ok((id, Some(app))) => {
                    back.insert(id, app);
                }
                Ok((_, None)) => self.failed(),
                Err(RecvTimeoutError::Disconnected) => self.failed(),
                // Still working, unless one died (the others keep the channel open).
                Err(RecvTimeoutError::Timeout) => {
                    if self.lanes.iter().any(|l| {
                        l.tx.is_none() || l.thread.as_ref().is_none_or(|t| t.is_finished())
                    }) {
                        self.failed();
                    }
                }
            }
        }
        for a in &mut waiting {
            let id = a.on_worker().unwrap_or_default();
            match back.remove(&id) {
                Some(app) => a.came_back(app),
                None => self.failed(),
            }
        }
    }

    /// A worker panicked (a dissector's bug): the same panic here, as on one thread.
    fn failed(&mut self) -> ! {
        for lane in &mut self.lanes {
            lane.tx = None;
            if let Some(Err(e)) = lane.thread.take().map(JoinHandle::join) {
                std::panic::resume_unwind(e);
            }
        }
        panic!("an analysis thread stopped");
    }
}

impl Lane {
    fn flush(&mut self) {
        if self.batch.msgs.is_empty() {
            return;
        }
        let mut next = self.spent.try_recv().unwrap_or_default();
        next.msgs.clear();
        next.bytes.clear();
        let full = std::mem::replace(&mut self.batch, next);
        let sent = self.tx.as_ref().is_some_and(|tx| tx.send(full).is_ok());
        if !sent {
            // The worker is gone: `take` finds out and says why.
            self.tx = None;
        }
    }
}

impl Drop for AppWorkers {
    fn drop(&mut self) {
        for lane in &mut self.lanes {
            lane.tx = None;
        }
        for lane in &mut self.lanes {
            if let Some(t) = lane.thread.take() {
                let _ = t.join();
            }
        }
    }
}

/// A worker: its connections' dissectors, and its own copy of the key log.
fn work(
    rx: Receiver<Batch>,
    spent: SyncSender<Batch>,
    give: Sender<(u64, Option<TcpApp>)>,
    body_hash: bool,
) {
    let mut keys = KeyLog::new();
    let mut apps: HashMap<u64, TcpApp> = HashMap::new();
    for mut batch in rx {
        for m in batch.msgs.drain(..) {
            let mut d = StreamDriver {
                keys: &keys,
                body_hash,
                workers: None,
            };
            match m {
                Msg::Open { id, app } => {
                    apps.insert(id, *app);
                }
                Msg::Conn { id, frame, call } => {
                    let Some(a) = apps.get_mut(&id) else {
                        continue;
                    };
                    d.segment(a, frame);
                    match call {
                        Call::Data {
                            dir,
                            ts,
                            start,
                            len,
                            late,
                        } => d.data(a, dir, ts, &batch.bytes[start..start + len], late),
                        Call::Gap { dir, len, ts } => d.gap(a, dir, len, ts),
                        Call::Closed { ts } => d.closed(a, ts),
                        Call::Warn { kind, message } => d.warn(a, kind, message),
                    }
                }
                Msg::KeyText(text) => {
                    keys.add_text(&text);
                }
                Msg::KeysGrowing => keys.set_growing(true),
                Msg::Take(id) => {
                    if give.send((id, apps.remove(&id))).is_err() {
                        return;
                    }
                }
            }
        }
        batch.bytes.clear();
        let _ = spent.try_send(batch);
    }
}

/// What [`StreamDriver`] does with a connection whose dissectors are on a worker: the
/// call, sent to it with the frame being handled.
impl AppWorkers {
    pub fn open(&mut self, id: u64, app: TcpApp) {
        self.push(
            id,
            Msg::Open {
                id,
                app: Box::new(app),
            },
        );
    }

    /// Sends `call`; a [`Call::Data`]'s `start` and `len` are set here, for `bytes` copied
    /// into the batch.
    pub fn call(&mut self, id: u64, frame: u64, mut call: Call, bytes: &[u8]) {
        if let Call::Data { start, len, .. } = &mut call {
            let batch = &mut self.lane(id).batch.bytes;
            (*start, *len) = (batch.len(), bytes.len());
            batch.extend_from_slice(bytes);
        }
        self.push(id, Msg::Conn { id, frame, call });
    }
}
