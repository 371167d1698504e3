//! Reading a capture on a thread of its own (`analyze --threads` of 2 or more): the file's
//! `read` calls (the kernel's copy out of the page cache), a compressed capture's
//! decompression and the pcap or pcapng parsing run there, a few batches of packets ahead
//! of the analysis, which takes them in the same order with the same frame numbers, times
//! and bytes: the report is the same.

use std::sync::mpsc::{sync_channel, Receiver};

use super::{CaptureEvent, CaptureReader, LinkType, Packet, SecretsKind};
use crate::time::Ts;
use crate::warning::Warning;

/// Packet bytes a batch gathers before it is handed over.
const BATCH_BYTES: usize = 256 << 10;
/// Events a batch gathers before it is handed over (many small packets).
const BATCH_EVENTS: usize = 4096;
/// Batches read ahead of the analysis (so about 2 MiB in memory).
const AHEAD: usize = 6;

/// One event of a batch; its bytes end at `end` in the batch's bytes, where the previous
/// event's ended.
enum Ev {
    Packet {
        frame: u64,
        ts: Ts,
        link: LinkType,
        orig_len: u32,
        end: usize,
    },
    Secrets {
        kind: SecretsKind,
        end: usize,
    },
}

#[derive(Default)]
struct Batch {
    bytes: Vec<u8>,
    events: Vec<Ev>,
}

/// [`CaptureReader::for_each_while`] with the reading on a scoped thread of its own. The
/// reader's warnings come after every event, as they do on one thread.
pub(super) fn for_each_while(
    reader: &mut CaptureReader,
    warnings: &mut Vec<Warning>,
    mut on_event: impl FnMut(CaptureEvent<'_>) -> bool,
) {
    let (tx, rx) = sync_channel::<Batch>(AHEAD);
    let (spent_tx, spent) = sync_channel::<Batch>(AHEAD + 2);
    let r = &mut *reader;
    let threaded = std::thread::scope(|s| {
        let reading = std::thread::Builder::new()
            .name("pagetrace-read".into())
            .spawn_scoped(s, move || {
                let mut found = Vec::new();
                let mut batch = Batch::default();
                let mut open = true;
                r.read_here_while(&mut found, |ev| {
                    match ev {
                        CaptureEvent::Packet(p) => {
                            batch.bytes.extend_from_slice(p.data);
                            batch.events.push(Ev::Packet {
                                frame: p.frame,
                                ts: p.ts,
                                link: p.link,
                                orig_len: p.orig_len,
                                end: batch.bytes.len(),
                            });
                        }
                        CaptureEvent::Secrets { kind, data } => {
                            batch.bytes.extend_from_slice(data);
                            batch.events.push(Ev::Secrets {
                                kind,
                                end: batch.bytes.len(),
                            });
                        }
                    }
                    if batch.bytes.len() >= BATCH_BYTES || batch.events.len() >= BATCH_EVENTS {
                        let mut next = spent.try_recv().unwrap_or_default();
                        next.bytes.clear();
                        next.events.clear();
                        // A failed hand-over: the analysis stopped (its output went away).
                        open = tx.send(std::mem::replace(&mut batch, next)).is_ok();
                    }
                    open
                });
                if open && !batch.events.is_empty() {
                    let _ = tx.send(batch);
                }
                found
            });
        let Ok(reading) = reading else {
            return false;
        };
        consume(rx, spent_tx, &mut on_event);
        match reading.join() {
            Ok(found) => warnings.extend(found),
            Err(e) => std::panic::resume_unwind(e),
        }
        true
    });
    if !threaded {
        // No thread to be had: read here.
        reader.read_here_while(warnings, on_event);
    }
}

/// Hands every event of every batch to `on_event` until it returns `false`; then the
/// receiver is dropped, so the reading thread stops at its next hand-over.
fn consume(
    rx: Receiver<Batch>,
    spent: std::sync::mpsc::SyncSender<Batch>,
    on_event: &mut impl FnMut(CaptureEvent<'_>) -> bool,
) {
    for batch in rx.iter() {
        let mut start = 0;
        for ev in &batch.events {
            let go = match *ev {
                Ev::Packet {
                    frame,
                    ts,
                    link,
                    orig_len,
                    end,
                } => {
                    let p = Packet {
                        frame,
                        ts,
                        link,
                        data: &batch.bytes[start..end],
                        orig_len,
                    };
                    start = end;
                    on_event(CaptureEvent::Packet(p))
                }
                Ev::Secrets { kind, end } => {
                    let data = &batch.bytes[start..end];
                    start = end;
                    on_event(CaptureEvent::Secrets { kind, data })
                }
            };
            if !go {
                return;
            }
        }
        let _ = spent.try_send(batch);
    }
}
