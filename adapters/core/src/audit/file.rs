//! The embedded default store: an append-only JSON-lines file, one chained event per line,
//! fsynced per batch and locked against a second writer. Nothing prevents editing a file, so
//! the chain is what makes edits evident: `mcppol audit verify --file` recomputes it.

use super::sink::{Backend, QueuedSink, SinkOptions};
use super::{
    AuditError, AuditEvent, AuditReader, ChainHead, ErrorKind, Page, Query, Verifier, VerifyReport,
};
use std::collections::{BTreeMap, BTreeSet};
use std::fs::{File, OpenOptions};
use std::io::{BufRead, BufReader, Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

/// A [`Backend`] appending to a JSON-lines file.
#[derive(Debug)]
pub struct FileBackend {
    path: PathBuf,
    file: Option<File>,
    heads: BTreeMap<String, ChainHead>,
}

fn io_error(path: &Path, what: &str, error: &std::io::Error) -> AuditError {
    AuditError::new(ErrorKind::Io, format!("cannot {what} `{}`: {error}", path.display()))
}

impl FileBackend {
    /// A backend for `path` (created on first use).
    pub fn new(path: impl Into<PathBuf>) -> Self {
        FileBackend { path: path.into(), file: None, heads: BTreeMap::new() }
    }

    fn open(&mut self) -> Result<&mut File, AuditError> {
        if self.file.is_none() {
            let mut file = OpenOptions::new()
                .create(true)
                .read(true)
                .append(true)
                .open(&self.path)
                .map_err(|error| io_error(&self.path, "open audit log", &error))?;
            file.try_lock().map_err(|_| {
                AuditError::new(
                    ErrorKind::Io,
                    format!("audit log `{}` is in use by another writer", self.path.display()),
                )
                .with_hint("one writer per log file: a second one would fork the chain")
            })?;
            self.heads = scan_heads(&self.path, &mut file)?;
            self.file = Some(file);
        }
        self.file.as_mut().ok_or_else(|| AuditError::new(ErrorKind::Io, "audit log not open"))
    }
}

/// Reads every line to find each log's head, refusing a file whose tail is torn or whose lines
/// are not events: appending after damage would hide it.
fn scan_heads(path: &Path, file: &mut File) -> Result<BTreeMap<String, ChainHead>, AuditError> {
    let mut text = String::new();
    file.seek(SeekFrom::Start(0))
        .and_then(|_| file.read_to_string(&mut text))
        .map_err(|error| io_error(path, "read audit log", &error))?;
    if !text.is_empty() && !text.ends_with('\n') {
        return Err(AuditError::new(
            ErrorKind::Malformed,
            format!("audit log `{}` ends in a torn line", path.display()),
        )
        .with_hint(format!("run `mcppol audit verify --file {}`", path.display())));
    }
    let mut heads = BTreeMap::new();
    for (index, line) in text.lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        let event: AuditEvent = serde_json::from_str(line).map_err(|error| {
            AuditError::new(
                ErrorKind::Malformed,
                format!("audit log `{}` line {}: {error}", path.display(), index + 1),
            )
            .with_hint(format!("run `mcppol audit verify --file {}`", path.display()))
        })?;
        heads.insert(event.log, ChainHead { seq: event.seq, hash: event.hash });
    }
    Ok(heads)
}

impl Backend for FileBackend {
    fn head(&mut self, log: &str) -> Result<ChainHead, AuditError> {
        self.open()?;
        Ok(self.heads.get(log).cloned().unwrap_or_else(ChainHead::genesis))
    }

    fn stored(&mut self, _ids: &[&str]) -> Result<BTreeSet<String>, AuditError> {
        // A failed append is truncated away, so no event is ever half-written here.
        Ok(BTreeSet::new())
    }

    fn append(&mut self, events: &[AuditEvent]) -> Result<(), AuditError> {
        let buffer = super::sink::json_lines(events)?;
        let path = self.path.clone();
        let file = self.open()?;
        let before = file.metadata().map(|meta| meta.len()).unwrap_or(0);
        if let Err(error) = file.write_all(&buffer).and_then(|()| file.sync_data()) {
            // All or nothing: cut a partial batch off so the file stays a valid chain.
            let _ = file.set_len(before);
            return Err(io_error(&path, "write audit log", &error));
        }
        for event in events {
            self.heads
                .insert(event.log.clone(), ChainHead { seq: event.seq, hash: event.hash.clone() });
        }
        Ok(())
    }

    fn reset(&mut self) {
        self.file = None;
    }
}

/// Starts a queued sink writing to the JSON-lines file at `path`. `options.spool` is ignored:
/// a second local file would not be more available than the first.
///
/// # Errors
/// The writer thread cannot start.
pub fn file_sink(
    path: impl Into<PathBuf>,
    mut options: SinkOptions,
) -> Result<QueuedSink, AuditError> {
    options.spool = None;
    QueuedSink::start(FileBackend::new(path), options)
}

/// Reads a JSON-lines audit log.
#[derive(Debug)]
pub struct FileReader {
    path: PathBuf,
}

impl FileReader {
    /// A reader of `path`.
    pub fn new(path: impl Into<PathBuf>) -> Self {
        FileReader { path: path.into() }
    }

    fn lines(&self) -> Result<impl Iterator<Item = (usize, std::io::Result<String>)>, AuditError> {
        let file = File::open(&self.path)
            .map_err(|error| io_error(&self.path, "read audit log", &error))?;
        Ok(BufReader::new(file).lines().enumerate().map(|(index, line)| (index + 1, line)))
    }
}

impl AuditReader for FileReader {
    fn query(&mut self, query: &Query) -> Result<Page, AuditError> {
        let mut matching = Vec::new();
        for (number, line) in self.lines()? {
            let line = line.map_err(|error| io_error(&self.path, "read audit log", &error))?;
            if line.trim().is_empty() {
                continue;
            }
            let event: AuditEvent = serde_json::from_str(&line).map_err(|error| {
                AuditError::new(
                    ErrorKind::Malformed,
                    format!("`{}` line {number}: not an audit event: {error}", self.path.display()),
                )
            })?;
            if query.matches(&event) {
                matching.push(event);
            }
        }
        matching.sort_by(|a, b| (a.ts, &a.id).cmp(&(b.ts, &b.id)));
        matching.truncate(query.limit.saturating_add(1));
        Ok(Page::from_sorted(matching, query.limit))
    }

    fn verify(&mut self) -> Result<VerifyReport, AuditError> {
        let mut verifier = Verifier::new();
        for (number, line) in self.lines()? {
            let line = line.map_err(|error| io_error(&self.path, "read audit log", &error))?;
            if line.trim().is_empty() {
                continue;
            }
            match serde_json::from_str::<AuditEvent>(&line) {
                Ok(event) => {
                    if !verifier.push(&event) {
                        break;
                    }
                }
                Err(error) => {
                    verifier.malformed("?", 0, &format!("line {number}"), error.to_string());
                    break;
                }
            }
        }
        Ok(verifier.finish())
    }
}
