//! The embedded approval store: one mutex over two maps (requests by id, ids by token hash).
//! Every operation checks and changes state under the lock, so it has the same atomic,
//! single-use semantics as the Redis store, for one gateway process. Nothing survives a
//! restart: a restarted gateway asks for approval again.

use super::{
    ApprovalError, ApprovalRequest, ApprovalStore, Binding, Clock, Created, ErrorKind, Hooks,
    NewApproval, State, StoreOptions, SystemClock, Token, new_id, token_hash,
};
use crate::audit::EventKind;
use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

/// Approvals in this process's memory.
#[derive(Debug)]
pub struct MemoryStore {
    inner: Mutex<Inner>,
    clock: Arc<dyn Clock>,
    hooks: Hooks,
    retention_ms: u64,
}

#[derive(Debug, Default)]
struct Inner {
    requests: BTreeMap<String, ApprovalRequest>,
    /// Token hash to request id.
    tokens: BTreeMap<String, String>,
    /// Request id to token hash, to forget the token with its request.
    token_of: BTreeMap<String, String>,
    /// When to look for requests past their retention next.
    next_purge_ms: u64,
}

impl Default for MemoryStore {
    fn default() -> Self {
        MemoryStore::new(Arc::new(SystemClock), Hooks::default(), &StoreOptions::default())
    }
}

impl MemoryStore {
    /// A store deciding expiry by `clock`, recording and notifying through `hooks`.
    pub fn new(clock: Arc<dyn Clock>, hooks: Hooks, options: &StoreOptions) -> Self {
        MemoryStore {
            inner: Mutex::new(Inner::default()),
            clock,
            hooks,
            retention_ms: u64::try_from(options.retention.as_millis()).unwrap_or(u64::MAX),
        }
    }

    fn lock(&self) -> MutexGuard<'_, Inner> {
        // A panic while holding the lock cannot leave a half-made change: every change is a
        // single assignment after all checks. So a poisoned lock is still consistent.
        self.inner.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Expires `id` if it is open and overdue; returns the expired request.
    fn expire_if_overdue(inner: &mut Inner, id: &str, now: u64) -> Option<ApprovalRequest> {
        let request = inner.requests.get_mut(id)?;
        if !request.is_overdue(now) {
            return None;
        }
        request.state = State::Expired;
        request.expired_at = Some(now);
        Some(request.clone())
    }

    /// Forgets requests past their expiry plus the retention, at most once a second.
    fn purge(&self, inner: &mut Inner, now: u64) {
        if now < inner.next_purge_ms {
            return;
        }
        inner.next_purge_ms = now.saturating_add(1000);
        let retention = self.retention_ms;
        let gone: Vec<String> = inner
            .requests
            .values()
            .filter(|request| {
                !request.state.is_open() && now >= request.expires_at.saturating_add(retention)
            })
            .map(|request| request.id.clone())
            .collect();
        for id in gone {
            inner.requests.remove(&id);
            if let Some(hash) = inner.token_of.remove(&id) {
                inner.tokens.remove(&hash);
            }
        }
    }

    fn decide(
        &self,
        id: &str,
        approver: &str,
        to: State,
        note: Option<&str>,
    ) -> Result<ApprovalRequest, ApprovalError> {
        let now = self.clock.now_ms();
        let outcome = {
            let mut inner = self.lock();
            match MemoryStore::expire_if_overdue(&mut inner, id, now) {
                Some(expired) => Err(expired),
                None => {
                    let request = inner
                        .requests
                        .get_mut(id)
                        .ok_or_else(|| ApprovalError::about(ErrorKind::NotFound, id))?;
                    if request.state != State::Pending {
                        return Err(ApprovalError::new(
                            ErrorKind::NotPending,
                            format!("approval `{id}` is {}, not pending", request.state),
                        ));
                    }
                    request.state = to;
                    request.decided_at = Some(now);
                    request.decided_by = Some(approver.to_owned());
                    request.note = note.map(str::to_owned);
                    Ok(request.clone())
                }
            }
        };
        match outcome {
            Ok(request) => {
                self.hooks.record(to.event_kind(), &request)?;
                Ok(request)
            }
            Err(expired) => {
                self.hooks.record(EventKind::ApprovalExpired, &expired)?;
                Err(ApprovalError::about(ErrorKind::Expired, id))
            }
        }
    }
}

impl ApprovalStore for MemoryStore {
    fn create(&self, new: NewApproval) -> Result<Created, ApprovalError> {
        let token = Token::generate()?;
        let now = self.clock.now_ms();
        let request = ApprovalRequest::open(new_id(), new, now);
        {
            let mut inner = self.lock();
            self.purge(&mut inner, now);
            let hash = token.hash();
            inner.tokens.insert(hash.clone(), request.id.clone());
            inner.token_of.insert(request.id.clone(), hash);
            inner.requests.insert(request.id.clone(), request.clone());
        }
        self.hooks.created(&request)?;
        Ok(Created { request, token })
    }

    fn get(&self, id: &str) -> Result<ApprovalRequest, ApprovalError> {
        self.lock()
            .requests
            .get(id)
            .cloned()
            .ok_or_else(|| ApprovalError::about(ErrorKind::NotFound, id))
    }

    fn open(&self, limit: usize) -> Result<Vec<ApprovalRequest>, ApprovalError> {
        self.expire_overdue()?;
        let mut open: Vec<ApprovalRequest> =
            self.lock().requests.values().filter(|r| r.state.is_open()).cloned().collect();
        open.sort_by(|a, b| (a.expires_at, &a.id).cmp(&(b.expires_at, &b.id)));
        open.truncate(limit);
        Ok(open)
    }

    fn approve(&self, id: &str, approver: &str) -> Result<ApprovalRequest, ApprovalError> {
        self.decide(id, approver, State::Approved, None)
    }

    fn deny(
        &self,
        id: &str,
        approver: &str,
        reason: &str,
    ) -> Result<ApprovalRequest, ApprovalError> {
        self.decide(id, approver, State::Denied, Some(reason))
    }

    fn consume(&self, token: &str, binding: &Binding) -> Result<ApprovalRequest, ApprovalError> {
        let now = self.clock.now_ms();
        let hash = token_hash(token);
        let (kind, request) = {
            let mut inner = self.lock();
            let unknown =
                || ApprovalError::new(ErrorKind::UnknownToken, ErrorKind::UnknownToken.describe());
            let id = inner.tokens.get(&hash).cloned().ok_or_else(unknown)?;
            if let Some(expired) = MemoryStore::expire_if_overdue(&mut inner, &id, now) {
                (EventKind::ApprovalExpired, expired)
            } else {
                let request = inner.requests.get_mut(&id).ok_or_else(unknown)?;
                let refusal = match request.state {
                    State::Consumed => Some(ErrorKind::Consumed),
                    State::Denied => Some(ErrorKind::Denied),
                    State::Expired => Some(ErrorKind::Expired),
                    State::Pending | State::Approved => request.binding.mismatch(binding),
                }
                .or((request.state == State::Pending).then_some(ErrorKind::Pending));
                if let Some(refusal) = refusal {
                    return Err(ApprovalError::about(refusal, &id));
                }
                request.state = State::Consumed;
                request.consumed_at = Some(now);
                (EventKind::ApprovalConsumed, request.clone())
            }
        };
        self.hooks.record(kind, &request)?;
        if kind == EventKind::ApprovalExpired {
            return Err(ApprovalError::about(ErrorKind::Expired, &request.id));
        }
        Ok(request)
    }

    fn expire_overdue(&self) -> Result<Vec<ApprovalRequest>, ApprovalError> {
        let now = self.clock.now_ms();
        let expired: Vec<ApprovalRequest> = {
            let mut inner = self.lock();
            self.purge(&mut inner, now);
            let overdue: Vec<String> = inner
                .requests
                .values()
                .filter(|request| request.is_overdue(now))
                .map(|request| request.id.clone())
                .collect();
            overdue
                .iter()
                .filter_map(|id| MemoryStore::expire_if_overdue(&mut inner, id, now))
                .collect()
        };
        self.hooks.expired(&expired)?;
        Ok(expired)
    }
}
