//! Reading a capture on a thread of its own (`analyze --threads` of 2 or more): the file's
//! `read` calls (the kernel's copy out of the page cache) and a compressed capture's
//! decompression run there, a few chunks ahead of the parser, instead of between its
//! packets. What the parser sees is the same bytes in the same order, so the report is
//! the same.

use std::io::{self, Read};
use std::sync::mpsc::{sync_channel, Receiver, SyncSender};

/// Bytes per chunk: small enough that a chunk the other thread just wrote is still in a
/// shared cache when it is copied out, large enough that handing it over is rare.
const CHUNK: usize = 256 << 10;
/// Chunks read ahead of the parser (so at most this many and the two in hand are in
/// memory: about 2.5 MiB).
const AHEAD: usize = 8;

/// A [`Read`] whose reads come from chunks a background thread reads from the inner one.
/// The inner reader's error ends the stream there, as its end would, and is returned by
/// the read after the last byte before it.
pub struct ReadAhead {
    chunks: Receiver<io::Result<Vec<u8>>>,
    /// Emptied chunks go back to the reader thread, so two or three buffers serve the file.
    spent: SyncSender<Vec<u8>>,
    cur: Vec<u8>,
    pos: usize,
    done: bool,
    /// The inner reader's error, for the read after the bytes before it.
    error: Option<io::Error>,
}

impl ReadAhead {
    pub fn new<R: Read + Send + 'static>(mut inner: R) -> io::Result<ReadAhead> {
        let (tx, chunks) = sync_channel::<io::Result<Vec<u8>>>(AHEAD);
        let (spent, recycled) = sync_channel::<Vec<u8>>(AHEAD + 2);
        std::thread::Builder::new()
            .name("pagetrace-read".into())
            .spawn(move || loop {
                let mut buf: Vec<u8> = recycled.try_recv().unwrap_or_default();
                buf.resize(CHUNK, 0);
                let (n, error) = fill(&mut inner, &mut buf);
                buf.truncate(n);
                // The end is an empty chunk (or an error) after the last bytes.
                let end = match error {
                    Some(e) => Some(Err(e)),
                    None => (n < CHUNK).then(|| Ok(Vec::new())),
                };
                // A failed hand-over: the parser stopped reading (its output went away),
                // and so does this thread.
                if n > 0 && tx.send(Ok(buf)).is_err() {
                    return;
                }
                if let Some(end) = end {
                    let _ = tx.send(end);
                    return;
                }
            })?;
        Ok(ReadAhead {
            chunks,
            spent,
            cur: Vec::new(),
            pos: 0,
            done: false,
            error: None,
        })
    }
}

/// Reads into `buf` until it is full, the input ends or fails: the bytes read, and the
/// error that stopped it.
fn fill<R: Read>(inner: &mut R, buf: &mut [u8]) -> (usize, Option<io::Error>) {
    let mut n = 0;
    while n < buf.len() {
        match inner.read(&mut buf[n..]) {
            Ok(0) => break,
            Ok(k) => n += k,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return (n, Some(e)),
        }
    }
    (n, None)
}

impl Read for ReadAhead {
    fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
        if let Some(e) = self.error.take() {
            return Err(e);
        }
        let mut n = 0;
        while n < out.len() {
            if self.pos == self.cur.len() {
                if self.done {
                    break;
                }
                let spent = std::mem::take(&mut self.cur);
                self.pos = 0;
                if spent.capacity() > 0 {
                    let _ = self.spent.try_send(spent);
                }
                match self.chunks.recv() {
                    Ok(Ok(chunk)) => {
                        self.done = chunk.is_empty();
                        self.cur = chunk;
                    }
                    Ok(Err(e)) => {
                        self.done = true;
                        if n > 0 {
                            // Said on the next read, after these bytes.
                            self.error = Some(e);
                            return Ok(n);
                        }
                        return Err(e);
                    }
                    Err(_) => {
                        self.done = true;
                        break;
                    }
                }
                continue;
            }
            let k = (out.len() - n).min(self.cur.len() - self.pos);
            out[n..n + k].copy_from_slice(&self.cur[self.pos..self.pos + k]);
            self.pos += k;
            n += k;
        }
        Ok(n)
    }
}

// Dropped, the receiver makes the thread's next hand-over fail, and the thread ends then.
// It is not joined: it may be waiting on a pipe that has nothing more to say.

#[cfg(test)]
mod tests {
    use super::*;

    /// Reads `n` bytes at a time, then fails once at `fail_at` if given.
    struct Trickle {
        data: Vec<u8>,
        pos: usize,
        step: usize,
        fail_at: Option<usize>,
    }

    impl Read for Trickle {
        fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
            if self.fail_at == Some(self.pos) {
                self.fail_at = None;
                return Err(io::Error::other("disk on fire"));
            }
            let end = self
                .data
                .len()
                .min(self.pos + self.step)
                .min(self.fail_at.unwrap_or(usize::MAX));
            let k = (end - self.pos).min(buf.len());
            buf[..k].copy_from_slice(&self.data[self.pos..self.pos + k]);
            self.pos += k;
            Ok(k)
        }
    }

    fn bytes(n: usize) -> Vec<u8> {
        (0..n).map(|i| (i * 7 + i / 251) as u8).collect()
    }

    #[test]
    fn the_same_bytes_in_the_same_order_whatever_the_read_sizes() {
        for len in [0, 1, CHUNK - 1, CHUNK, CHUNK + 1, 3 * CHUNK + 12345] {
            let data = bytes(len);
            let inner = Trickle {
                data: data.clone(),
                pos: 0,
                step: 4093,
                fail_at: None,
            };
            let mut r = ReadAhead::new(inner).unwrap();
            let mut got = Vec::new();
            let mut buf = vec![0u8; 70_001];
            loop {
                let n = r.read(&mut buf).unwrap();
                if n == 0 {
                    break;
                }
                got.extend_from_slice(&buf[..n]);
            }
            assert_eq!(got, data, "{len} bytes");
            // The end stays the end.
            assert_eq!(r.read(&mut buf).unwrap(), 0);
        }
    }

    #[test]
    fn an_error_comes_after_the_bytes_before_it() {
        let data = bytes(2 * CHUNK + 100);
        let fail_at = CHUNK + 50;
        let inner = Trickle {
            data: data.clone(),
            pos: 0,
            step: 1000,
            fail_at: Some(fail_at),
        };
        let mut r = ReadAhead::new(inner).unwrap();
        let mut got = Vec::new();
        let mut buf = vec![0u8; 4096];
        let err = loop {
            match r.read(&mut buf) {
                Ok(0) => panic!("the end before the error"),
                Ok(n) => got.extend_from_slice(&buf[..n]),
                Err(e) => break e,
            }
        };
        assert_eq!(got, data[..fail_at]);
        assert_eq!(err.to_string(), "disk on fire");
        assert_eq!(r.read(&mut buf).unwrap(), 0);
    }

    #[test]
    fn dropped_early_it_does_not_wait_for_the_rest() {
        let inner = Trickle {
            data: bytes(40 * CHUNK),
            pos: 0,
            step: CHUNK,
            fail_at: None,
        };
        let mut r = ReadAhead::new(inner).unwrap();
        let mut buf = [0u8; 10];
        r.read_exact(&mut buf).unwrap();
        drop(r);
    }
}
