//! Reading the log: filters, a stable order (`ts`, then `id`) and keyset pagination, so a page
//! boundary never skips or repeats an event even while writers append.

use super::{AuditError, AuditEvent, ErrorKind, Timestamp};
use std::fmt;

/// Filters; every `Some` must match exactly. `since` is inclusive, `until` exclusive.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Query {
    /// Events at or after this time.
    pub since: Option<Timestamp>,
    /// Events before this time.
    pub until: Option<Timestamp>,
    /// The tool.
    pub tool: Option<String>,
    /// The server.
    pub server: Option<String>,
    /// `allow`, `deny` or `require_approval`.
    pub decision: Option<String>,
    /// The principal id.
    pub principal: Option<String>,
    /// The rule id.
    pub rule: Option<String>,
    /// The risk level.
    pub risk: Option<String>,
    /// The event kind (`decision`, `approval.created`, …).
    pub kind: Option<String>,
    /// The log.
    pub log: Option<String>,
    /// At most this many events per page.
    pub limit: usize,
    /// Start after this position (the previous page's `next`).
    pub after: Option<Cursor>,
}

impl Default for Query {
    fn default() -> Self {
        Query {
            since: None,
            until: None,
            tool: None,
            server: None,
            decision: None,
            principal: None,
            rule: None,
            risk: None,
            kind: None,
            log: None,
            limit: 100,
            after: None,
        }
    }
}

fn same(filter: Option<&String>, value: &str) -> bool {
    filter.is_none_or(|filter| filter == value)
}

impl Query {
    /// Whether `event` passes every filter and lies after the cursor.
    pub fn matches(&self, event: &AuditEvent) -> bool {
        self.since.is_none_or(|since| event.ts >= since)
            && self.until.is_none_or(|until| event.ts < until)
            && same(self.tool.as_ref(), &event.tool)
            && same(self.server.as_ref(), &event.server)
            && same(self.decision.as_ref(), &event.decision)
            && same(self.principal.as_ref(), &event.principal)
            && self.rule.as_ref().is_none_or(|rule| event.rule.as_ref() == Some(rule))
            && same(self.risk.as_ref(), &event.risk)
            && same(self.kind.as_ref(), event.kind.as_str())
            && same(self.log.as_ref(), &event.log)
            && self.after.as_ref().is_none_or(|after| after.is_before(event))
    }
}

/// A position in the stable order: the last event of a page.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Cursor {
    /// Its time.
    pub ts: Timestamp,
    /// Its id.
    pub id: String,
}

impl Cursor {
    /// The position of `event`.
    pub fn of(event: &AuditEvent) -> Self {
        Cursor { ts: event.ts, id: event.id.clone() }
    }

    /// Whether `event` comes after this position.
    pub fn is_before(&self, event: &AuditEvent) -> bool {
        (event.ts, event.id.as_str()) > (self.ts, self.id.as_str())
    }

    /// Parses the text form `MICROS_ID` printed by [`fmt::Display`].
    ///
    /// # Errors
    /// `audit.config` when the text is not a cursor.
    pub fn parse(text: &str) -> Result<Self, AuditError> {
        text.split_once('_')
            .and_then(|(micros, id)| {
                let ts = micros.parse().ok().map(Timestamp)?;
                (!id.is_empty()).then(|| Cursor { ts, id: id.to_owned() })
            })
            .ok_or_else(|| {
                AuditError::new(ErrorKind::Config, format!("`{text}` is not a cursor"))
                    .with_hint("pass the `next` cursor a previous query printed")
            })
    }
}

impl fmt::Display for Cursor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}_{}", self.ts.0, self.id)
    }
}

/// One page of results.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Page {
    /// Events in (`ts`, `id`) order.
    pub events: Vec<AuditEvent>,
    /// Where the next page starts, when there may be one.
    pub next: Option<Cursor>,
}

impl Page {
    /// The page of `query.limit` events from `sorted` (already filtered and ordered, holding at
    /// most one event more than the limit, which signals that a next page exists).
    pub fn from_sorted(mut sorted: Vec<AuditEvent>, limit: usize) -> Self {
        let more = sorted.len() > limit;
        sorted.truncate(limit);
        let next = if more { sorted.last().map(Cursor::of) } else { None };
        Page { events: sorted, next }
    }
}

/// A store that can be read and verified.
pub trait AuditReader {
    /// One page of events matching `query`, in (`ts`, `id`) order.
    ///
    /// # Errors
    /// I/O or database failures, or a record that cannot be read.
    fn query(&mut self, query: &Query) -> Result<Page, AuditError>;

    /// Recomputes every log's chain and reports the first break.
    ///
    /// # Errors
    /// I/O or database failures (a broken chain is a report, not an error).
    fn verify(&mut self) -> Result<super::VerifyReport, AuditError>;
}
