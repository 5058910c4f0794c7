//! The queued sink: the hot path puts a record on a bounded queue and returns; one writer
//! thread reduces arguments, chains events and writes batches to a [`Backend`]. When the
//! backend fails, batches go to a local spool file (fsynced) and are replayed, in order and
//! exactly once, when it comes back; when even the spool fails, the sink says records cannot
//! be kept, and a fail-closed gateway denies.
//!
//! Exactly once rests on two facts: a batch is appended atomically, and event ids are assigned
//! on the hot path, before any attempt. After a failure whose outcome is unknown (a connection
//! lost during COMMIT), the writer forgets its chain head, asks the backend for it again, and
//! skips every spooled event whose id the backend already has.

use super::event::{ArgsPolicy, AuditEvent, Record};
use super::{AuditError, ChainHead, ErrorKind, Timestamp};
use std::collections::BTreeSet;
use std::fs::{File, OpenOptions};
use std::io::{BufRead, BufReader, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError, SyncSender, TrySendError};
use std::sync::{Arc, Mutex, PoisonError};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// Where events are stored: a file, a database. Called only from the writer thread.
pub trait Backend: Send + 'static {
    /// Connects if needed (running migrations) and returns the head of `log`'s chain.
    ///
    /// # Errors
    /// The store is unreachable or refuses.
    fn head(&mut self, log: &str) -> Result<ChainHead, AuditError>;

    /// Which of `ids` the store already holds (for replay after an unknown outcome).
    ///
    /// # Errors
    /// The store is unreachable or refuses.
    fn stored(&mut self, ids: &[&str]) -> Result<BTreeSet<String>, AuditError>;

    /// Appends chained events atomically and in order: all of them or none.
    ///
    /// # Errors
    /// The store is unreachable or refuses; the outcome may be unknown.
    fn append(&mut self, events: &[AuditEvent]) -> Result<(), AuditError>;

    /// Forgets the connection after a failure, so the next call reconnects.
    fn reset(&mut self);
}

/// What `record` does when the queue is full.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FullPolicy {
    /// Wait for room: no call goes unrecorded, calls slow down with the store.
    Block,
    /// Refuse at once with `audit.queue_full` (and with `audit.unavailable` while records
    /// cannot be kept), so the gateway denies the call instead of making it unrecorded.
    FailClosed,
}

/// Settings of a queued sink.
#[derive(Clone, Debug)]
pub struct SinkOptions {
    /// The log (hash chain) to append to. One writer per log at a time.
    pub log: String,
    /// Queue capacity, in records.
    pub capacity: usize,
    /// Most events per backend write.
    pub batch_max: usize,
    /// What to do when the queue is full.
    pub full_policy: FullPolicy,
    /// How much of the arguments to keep.
    pub args: ArgsPolicy,
    /// Where to spool events while the backend fails; `None` keeps them in memory (bounded by
    /// `capacity`) and reports the sink unavailable.
    pub spool: Option<PathBuf>,
    /// How long to wait between reconnection attempts.
    pub retry_interval: Duration,
}

impl Default for SinkOptions {
    fn default() -> Self {
        SinkOptions {
            log: "default".to_owned(),
            capacity: 65_536,
            batch_max: 1_000,
            full_policy: FullPolicy::Block,
            args: ArgsPolicy::Digest,
            spool: None,
            retry_interval: Duration::from_millis(500),
        }
    }
}

/// The state of the sink after a flush.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FlushReport {
    /// Events written to the backend since the sink started.
    pub written: u64,
    /// Events not yet in the backend (spooled or held in memory).
    pub pending: u64,
    /// Backend failures (each one sent a batch to the spool) since the sink started.
    pub failures: u64,
    /// The last backend or spool failure, while one is unresolved.
    pub last_error: Option<AuditError>,
}

/// Where a gateway records decisions.
pub trait AuditSink: Send + Sync {
    /// Records one event without blocking (unless the queue is full and the policy is
    /// [`FullPolicy::Block`]). Returns the event id.
    ///
    /// # Errors
    /// `audit.queue_full` or `audit.unavailable` under [`FullPolicy::FailClosed`]: deny the
    /// call. `audit.closed` after [`AuditSink::close`].
    fn record(&self, record: Record) -> Result<String, AuditError>;

    /// Waits until every event recorded before the call is written or spooled, after one
    /// attempt to replay the spool.
    ///
    /// # Errors
    /// `audit.closed` when the writer is gone.
    fn flush(&self) -> Result<FlushReport, AuditError>;

    /// Flushes and stops the writer. Later records fail with `audit.closed`.
    ///
    /// # Errors
    /// `audit.closed` when the writer is gone.
    fn close(&self) -> Result<FlushReport, AuditError>;
}

struct Pending {
    record: Record,
    id: String,
    ts: Timestamp,
}

enum Message {
    Event(Box<Pending>),
    Flush(SyncSender<FlushReport>),
    Close(SyncSender<FlushReport>),
}

#[derive(Debug, Default)]
struct Shared {
    unavailable: AtomicBool,
    written: AtomicU64,
    pending: AtomicU64,
    failures: AtomicU64,
    last_error: Mutex<Option<AuditError>>,
}

impl Shared {
    fn report(&self) -> FlushReport {
        FlushReport {
            written: self.written.load(Ordering::Acquire),
            pending: self.pending.load(Ordering::Acquire),
            failures: self.failures.load(Ordering::Acquire),
            last_error: self.last_error.lock().unwrap_or_else(PoisonError::into_inner).clone(),
        }
    }
}

/// A sink with a bounded queue and a background writer over any [`Backend`].
#[derive(Debug)]
pub struct QueuedSink {
    sender: SyncSender<Message>,
    full_policy: FullPolicy,
    shared: Arc<Shared>,
    thread: Mutex<Option<JoinHandle<()>>>,
}

fn closed() -> AuditError {
    AuditError::new(ErrorKind::Closed, "the audit sink is closed")
}

impl QueuedSink {
    /// Starts the writer thread over `backend`. A leftover spool is replayed first.
    ///
    /// # Errors
    /// The spool cannot be opened or holds a record that is not an event.
    pub fn start(backend: impl Backend, options: SinkOptions) -> Result<Self, AuditError> {
        let spool = options.spool.as_deref().map(Spool::open).transpose()?;
        let (sender, receiver) = mpsc::sync_channel(options.capacity.max(1));
        let shared = Arc::new(Shared::default());
        let pending = spool.as_ref().map_or(0, |spool| spool.count);
        shared.pending.store(pending, Ordering::Release);
        let writer = Writer {
            backend,
            receiver,
            shared: Arc::clone(&shared),
            log: options.log,
            batch_max: options.batch_max.max(1),
            capacity: options.capacity.max(1),
            args: options.args,
            retry_interval: options.retry_interval,
            head: None,
            spool,
            backlog: Vec::new(),
            next_retry: Instant::now(),
        };
        let thread = std::thread::Builder::new()
            .name("mcppol-audit-writer".to_owned())
            .spawn(move || writer.run())
            .map_err(|error| {
                AuditError::new(ErrorKind::Io, format!("cannot start the writer thread: {error}"))
            })?;
        Ok(QueuedSink {
            sender,
            full_policy: options.full_policy,
            shared,
            thread: Mutex::new(Some(thread)),
        })
    }

    fn control(
        &self,
        make: fn(SyncSender<FlushReport>) -> Message,
    ) -> Result<FlushReport, AuditError> {
        let (reply, answer) = mpsc::sync_channel(1);
        self.sender.send(make(reply)).map_err(|_| closed())?;
        answer.recv().map_err(|_| closed())
    }
}

impl AuditSink for QueuedSink {
    fn record(&self, record: Record) -> Result<String, AuditError> {
        if self.full_policy == FullPolicy::FailClosed
            && self.shared.unavailable.load(Ordering::Acquire)
        {
            return Err(AuditError::new(
                ErrorKind::Unavailable,
                "audit records cannot be kept: the store and the spool are failing",
            ));
        }
        let id = uuid::Uuid::now_v7().to_string();
        let message =
            Message::Event(Box::new(Pending { record, id: id.clone(), ts: Timestamp::now() }));
        match self.full_policy {
            FullPolicy::Block => self.sender.send(message).map_err(|_| closed())?,
            FullPolicy::FailClosed => match self.sender.try_send(message) {
                Ok(()) => {}
                Err(TrySendError::Full(_)) => {
                    return Err(AuditError::new(ErrorKind::QueueFull, "the audit queue is full")
                        .with_hint(
                            "the store is slower than the decision rate; the call is denied",
                        ));
                }
                Err(TrySendError::Disconnected(_)) => return Err(closed()),
            },
        }
        Ok(id)
    }

    fn flush(&self) -> Result<FlushReport, AuditError> {
        self.control(Message::Flush)
    }

    fn close(&self) -> Result<FlushReport, AuditError> {
        let thread = self.thread.lock().unwrap_or_else(PoisonError::into_inner).take();
        let Some(thread) = thread else {
            return Ok(self.shared.report());
        };
        let report = self.control(Message::Close);
        let _ = thread.join();
        report
    }
}

impl Drop for QueuedSink {
    fn drop(&mut self) {
        // Never lose what was accepted: drain and replay once more on the way out.
        let _ = self.close();
    }
}

struct Writer<B> {
    backend: B,
    receiver: Receiver<Message>,
    shared: Arc<Shared>,
    log: String,
    batch_max: usize,
    capacity: usize,
    args: ArgsPolicy,
    retry_interval: Duration,
    /// The chain head as last confirmed by the backend; `None` after any failure.
    head: Option<ChainHead>,
    spool: Option<Spool>,
    /// Events held in memory because the spool failed too (newer than anything spooled).
    backlog: Vec<AuditEvent>,
    next_retry: Instant,
}

impl<B: Backend> Writer<B> {
    fn run(mut self) {
        self.drain();
        loop {
            if self.backlog.len() >= self.capacity {
                // Memory is the last resort and is bounded: stop taking records so the queue
                // fills and the hot path blocks or fails closed, and keep retrying.
                std::thread::sleep(self.retry_interval);
                self.drain();
                continue;
            }
            let message = if self.pending() > 0 {
                match self.receiver.recv_timeout(self.retry_interval) {
                    Ok(message) => message,
                    Err(RecvTimeoutError::Timeout) => {
                        self.drain();
                        continue;
                    }
                    Err(RecvTimeoutError::Disconnected) => return,
                }
            } else {
                match self.receiver.recv() {
                    Ok(message) => message,
                    Err(_) => return,
                }
            };
            let mut batch = Vec::new();
            let mut control = None;
            let mut next = Some(message);
            while let Some(message) = next.take() {
                match message {
                    Message::Event(pending) => {
                        let Pending { record, id, ts } = *pending;
                        batch.push(AuditEvent::from_record(record, id, ts, &self.args));
                    }
                    Message::Flush(reply) => control = Some((reply, false)),
                    Message::Close(reply) => control = Some((reply, true)),
                }
                if control.is_none() && batch.len() < self.batch_max {
                    next = self.receiver.try_recv().ok();
                }
            }
            if !batch.is_empty() {
                self.submit(batch);
            }
            if let Some((reply, close)) = control {
                self.next_retry = Instant::now();
                self.drain();
                let _ = reply.send(self.shared.report());
                if close {
                    return;
                }
            }
        }
    }

    fn pending(&self) -> u64 {
        let spooled = self.spool.as_ref().map_or(0, |spool| spool.count);
        spooled + u64::try_from(self.backlog.len()).unwrap_or(u64::MAX)
    }

    fn publish(&self) {
        self.shared.pending.store(self.pending(), Ordering::Release);
    }

    fn fail(&mut self, error: AuditError) {
        self.backend.reset();
        self.head = None;
        self.next_retry = Instant::now() + self.retry_interval;
        self.shared.failures.fetch_add(1, Ordering::AcqRel);
        *self.shared.last_error.lock().unwrap_or_else(PoisonError::into_inner) = Some(error);
    }

    fn submit(&mut self, mut batch: Vec<AuditEvent>) {
        if self.pending() > 0 {
            self.drain();
        }
        if self.pending() == 0 {
            match self.write(&mut batch) {
                Ok(()) => return,
                Err(error) => self.fail(error),
            }
        }
        self.keep(batch);
    }

    /// Chains `events` after the backend's head and appends them.
    fn write(&mut self, events: &mut [AuditEvent]) -> Result<(), AuditError> {
        let mut head = match self.head.take() {
            Some(head) => head,
            None => self.backend.head(&self.log)?,
        };
        for event in events.iter_mut() {
            head.seq = head.seq.saturating_add(1);
            event.seal(&self.log, head.seq, &head.hash);
            head.hash.clone_from(&event.hash);
        }
        self.backend.append(events)?;
        self.head = Some(head);
        let written = u64::try_from(events.len()).unwrap_or(u64::MAX);
        self.shared.written.fetch_add(written, Ordering::AcqRel);
        Ok(())
    }

    /// Keeps events the backend did not take: spool first, memory if the spool fails.
    fn keep(&mut self, mut events: Vec<AuditEvent>) {
        for event in &mut events {
            // Chain fields are assigned again at replay, from the backend's head then.
            event.seq = 0;
            event.log.clear();
            event.prev_hash.clear();
            event.hash.clear();
        }
        let spooled = match (&mut self.spool, self.backlog.is_empty()) {
            (Some(spool), true) => spool.append(&events).err(),
            _ => Some(AuditError::new(ErrorKind::Unavailable, "no spool to keep records in")),
        };
        if let Some(error) = spooled {
            if self.spool.is_some() {
                *self.shared.last_error.lock().unwrap_or_else(PoisonError::into_inner) =
                    Some(error);
            }
            self.backlog.extend(events);
            self.shared.unavailable.store(true, Ordering::Release);
        }
        self.publish();
    }

    /// Replays the spool, then the memory backlog, when a retry is due.
    fn drain(&mut self) {
        if self.pending() == 0 || Instant::now() < self.next_retry {
            return;
        }
        match self.replay() {
            Ok(()) => {
                self.shared.unavailable.store(false, Ordering::Release);
                *self.shared.last_error.lock().unwrap_or_else(PoisonError::into_inner) = None;
            }
            Err(error) => self.fail(error),
        }
        self.publish();
    }

    fn replay(&mut self) -> Result<(), AuditError> {
        // Always ask the backend: a failed write may have committed.
        self.head = None;
        let mut head = self.backend.head(&self.log)?;
        if let Some(mut spool) = self.spool.take() {
            let result = spool
                .read_chunks(self.batch_max, |chunk| self.replay_chunk(chunk, &mut head))
                .and_then(|()| spool.clear());
            self.spool = Some(spool);
            result?;
        }
        if !self.backlog.is_empty() {
            let backlog = std::mem::take(&mut self.backlog);
            let mut result = Ok(());
            for chunk in backlog.chunks(self.batch_max) {
                result = self.replay_chunk(chunk.to_vec(), &mut head);
                if result.is_err() {
                    break;
                }
            }
            if let Err(error) = result {
                // Replay is idempotent: keep everything and try again later.
                self.backlog = backlog;
                return Err(error);
            }
        }
        self.head = Some(head);
        Ok(())
    }

    fn replay_chunk(
        &mut self,
        chunk: Vec<AuditEvent>,
        head: &mut ChainHead,
    ) -> Result<(), AuditError> {
        let ids: Vec<&str> = chunk.iter().map(|event| event.id.as_str()).collect();
        let stored = self.backend.stored(&ids)?;
        let mut fresh: Vec<AuditEvent> =
            chunk.into_iter().filter(|event| !stored.contains(&event.id)).collect();
        if fresh.is_empty() {
            return Ok(());
        }
        self.head = Some(head.clone());
        let result = self.write(&mut fresh);
        if let Some(new_head) = self.head.take() {
            *head = new_head;
        }
        result
    }
}

/// The spool: unchained events as JSON lines, appended with fsync, replayed in order.
#[derive(Debug)]
struct Spool {
    path: PathBuf,
    file: File,
    count: u64,
}

fn io_error(path: &Path, what: &str, error: &std::io::Error) -> AuditError {
    AuditError::new(ErrorKind::Io, format!("cannot {what} `{}`: {error}", path.display()))
}

impl Spool {
    fn open(path: &Path) -> Result<Self, AuditError> {
        let file = OpenOptions::new()
            .create(true)
            .read(true)
            .append(true)
            .open(path)
            .map_err(|error| io_error(path, "open spool", &error))?;
        // Two writers replaying one spool would each insert its events under their own chain.
        file.try_lock().map_err(|_| {
            AuditError::new(ErrorKind::Io, format!("spool `{}` is in use", path.display()))
                .with_hint("each sink needs its own spool file")
        })?;
        let mut spool = Spool { path: path.to_owned(), file, count: 0 };
        let mut count = 0;
        spool.read_chunks(usize::MAX, |chunk| {
            count += u64::try_from(chunk.len()).unwrap_or(u64::MAX);
            Ok(())
        })?;
        spool.count = count;
        Ok(spool)
    }

    fn append(&mut self, events: &[AuditEvent]) -> Result<(), AuditError> {
        let buffer = json_lines(events)?;
        let before = self.file.metadata().map(|meta| meta.len()).unwrap_or(0);
        let written = self.file.write_all(&buffer).and_then(|()| self.file.sync_data());
        if let Err(error) = written {
            // Leave no torn line behind: the spool must stay readable to the last event.
            let _ = self.file.set_len(before);
            return Err(io_error(&self.path, "write spool", &error));
        }
        self.count += u64::try_from(events.len()).unwrap_or(u64::MAX);
        Ok(())
    }

    fn read_chunks(
        &mut self,
        size: usize,
        mut each: impl FnMut(Vec<AuditEvent>) -> Result<(), AuditError>,
    ) -> Result<(), AuditError> {
        self.file
            .seek(SeekFrom::Start(0))
            .map_err(|error| io_error(&self.path, "read spool", &error))?;
        let reader = BufReader::new(&self.file);
        let mut chunk = Vec::new();
        for (index, line) in reader.lines().enumerate() {
            let line = line.map_err(|error| io_error(&self.path, "read spool", &error))?;
            if line.trim().is_empty() {
                continue;
            }
            let event: AuditEvent = serde_json::from_str(&line).map_err(|error| {
                AuditError::new(
                    ErrorKind::Malformed,
                    format!("spool `{}` line {}: not an audit event: {error}", self.path.display(), index + 1),
                )
                .with_hint("the spool holds unreplayed records: repair or move it aside, never delete it unread")
            })?;
            chunk.push(event);
            if chunk.len() >= size {
                each(std::mem::take(&mut chunk))?;
            }
        }
        if !chunk.is_empty() {
            each(chunk)?;
        }
        Ok(())
    }

    fn clear(&mut self) -> Result<(), AuditError> {
        self.file
            .set_len(0)
            .and_then(|()| self.file.sync_all())
            .map_err(|error| io_error(&self.path, "truncate spool", &error))?;
        self.count = 0;
        Ok(())
    }
}

/// `events` as JSON lines, one object and a newline each: the spool's and the file store's
/// on-disk form.
pub(crate) fn json_lines(events: &[AuditEvent]) -> Result<Vec<u8>, AuditError> {
    let mut buffer = Vec::new();
    for event in events {
        serde_json::to_writer(&mut buffer, event).map_err(|error| {
            AuditError::new(ErrorKind::Malformed, format!("cannot serialise an event: {error}"))
        })?;
        buffer.push(b'\n');
    }
    Ok(buffer)
}
