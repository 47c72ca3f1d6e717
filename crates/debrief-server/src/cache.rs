//! Rendered postmortems kept between requests: the JSON document and the page, per postmortem,
//! valid for one revision.
//!
//! Every write to a postmortem or any of its parts records a revision in its transaction, and
//! revision ids only grow, so the id of the newest revision ([`Store::latest_revision`], one
//! small query) is an exact key: a request reads it first, and whatever was rendered under that
//! id is what the database holds now. A write on this instance or any other changes the id, and
//! the next read renders again — a stale answer is impossible, with no invalidation to forget
//! and nothing to coordinate between instances.
//!
//! What is kept is what every reader shares: the document's JSON, and the page as each role sees
//! it on a given day (overdue badges depend on the day) with holes where the reader's own
//! details go — the CSRF token of every form and the name in the navigation — filled in per
//! request. Each keeps the status and participants it was drawn from, so the visibility rule is
//! applied to every request, exactly as without the cache and to the very data it is shown.
//!
//! Memory is bounded: at most [`Config::cache_bytes`](crate::Config::cache_bytes) of rendered
//! output (least recently used postmortems go first) and [`MAX_SLOTS`] postmortems.
//!
//! [`Store::latest_revision`]: debrief_store::Store::latest_revision

use std::collections::HashMap;
use std::fmt::Write as _;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, OnceLock};

use axum::body::Bytes;
use jiff::civil::Date;
use tokio::sync::OnceCell;

use debrief_core::{Key, ParticipantFields, Status, UserRole};

use crate::auth::Caller;
use crate::error::ApiResult;

/// The most postmortems kept at once, whatever their size.
pub const MAX_SLOTS: usize = 4096;

/// What the visibility rule needs to know of a postmortem.
#[derive(Debug, Clone)]
pub struct Seen {
    pub status: Status,
    pub participants: Vec<ParticipantFields>,
}

impl Seen {
    /// Whether `caller` may see the postmortem: the rule of [`crate::api::visible`].
    pub fn visible_to(&self, caller: &Caller) -> bool {
        caller.can_write() || caller.may_see(self.status, &self.participants)
    }
}

/// Which page a reader gets: the role decides the edit forms, hidden events and the
/// navigation's links; the day decides which actions are overdue.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct PageVariant {
    pub role: UserRole,
    pub today: Date,
}

/// A place in a cached page where a reader's own value goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Hole {
    /// The session's CSRF token.
    Csrf,
    /// The signed-in user's name (HTML-escaped when filled in).
    User,
}

/// A page rendered for every reader of a variant, with [`Hole`]s for each reader's details.
#[derive(Debug)]
pub struct PageBody {
    /// Who may see it.
    pub seen: Seen,
    text: String,
    /// Where each hole goes, as byte offsets into `text`, in order.
    holes: Vec<(usize, Hole)>,
}

/// The markers a page is rendered with in place of the reader's details, then cut out. They are
/// random per process and never sent, so no text a user writes can contain one.
fn marks() -> &'static (String, String) {
    static MARKS: OnceLock<(String, String)> = OnceLock::new();
    MARKS.get_or_init(|| {
        let mut bytes = [0u8; 20];
        // Without randomness (never on a working system) the markers are still unlikely text;
        // a page that happened to contain one would only show a reader's own CSRF token.
        let _ = getrandom::fill(&mut bytes);
        let r = crate::auth::hex(&bytes);
        (format!("csrfmark{r}"), format!("usermark{r}"))
    })
}

impl PageBody {
    /// The CSRF token and the user name to render a page with, to be cut out by
    /// [`PageBody::cut`].
    pub fn markers() -> (&'static str, &'static str) {
        let (csrf, user) = marks();
        (csrf, user)
    }

    /// A page rendered with [`PageBody::markers`] from data with this status and these
    /// participants, its markers turned into holes.
    pub fn cut(seen: Seen, rendered: &str) -> PageBody {
        let (csrf, user) = marks();
        let mut text = String::with_capacity(rendered.len());
        let mut holes = Vec::new();
        let mut rest = rendered;
        loop {
            let next_csrf = rest
                .find(csrf.as_str())
                .map(|i| (i, Hole::Csrf, csrf.len()));
            let next_user = rest
                .find(user.as_str())
                .map(|i| (i, Hole::User, user.len()));
            let next = match (next_csrf, next_user) {
                (Some(a), Some(b)) => Some(if a.0 <= b.0 { a } else { b }),
                (a, b) => a.or(b),
            };
            let Some((at, hole, len)) = next else {
                text.push_str(rest);
                break;
            };
            text.push_str(&rest[..at]);
            holes.push((text.len(), hole));
            rest = &rest[at + len..];
        }
        PageBody { seen, text, holes }
    }

    /// The page for one reader.
    pub fn fill(&self, csrf: &str, user: &str) -> String {
        let user = askama::filters::escape(user, askama::filters::Html)
            .map(|s| s.to_string())
            .unwrap_or_default();
        let csrf = askama::filters::escape(csrf, askama::filters::Html)
            .map(|s| s.to_string())
            .unwrap_or_default();
        let mut out =
            String::with_capacity(self.text.len() + self.holes.len() * csrf.len().max(user.len()));
        let mut from = 0;
        for (at, hole) in &self.holes {
            out.push_str(&self.text[from..*at]);
            out.push_str(match hole {
                Hole::Csrf => &csrf,
                Hole::User => &user,
            });
            from = *at;
        }
        out.push_str(&self.text[from..]);
        out
    }

    fn bytes(&self) -> usize {
        self.text.len() + self.holes.len() * std::mem::size_of::<(usize, Hole)>()
    }
}

/// A postmortem's JSON document.
#[derive(Debug)]
pub struct JsonBody {
    /// Who may see it.
    pub seen: Seen,
    pub body: Bytes,
}

/// One variant's page, drawn once by whichever request gets there first.
type PageCell = Arc<OnceCell<Arc<PageBody>>>;

/// What is cached of one postmortem at one revision.
#[derive(Debug)]
pub struct Slot {
    key: Key,
    /// The newest revision this was read at (or after).
    pub mark: i64,
    /// Whether the slot is in the cache (a slot without a revision, or with caching off, is
    /// used for one request).
    kept: bool,
    used: AtomicU64,
    bytes: AtomicUsize,
    json: OnceCell<Arc<JsonBody>>,
    pages: Mutex<Vec<(PageVariant, PageCell)>>,
}

impl Slot {
    fn new(key: Key, mark: i64, kept: bool, tick: u64) -> Slot {
        Slot {
            key,
            mark,
            kept,
            used: AtomicU64::new(tick),
            bytes: AtomicUsize::new(0),
            json: OnceCell::new(),
            pages: Mutex::new(Vec::new()),
        }
    }

    fn page_cell(&self, variant: PageVariant) -> PageCell {
        let Ok(mut pages) = self.pages.lock() else {
            return Arc::new(OnceCell::new());
        };
        if let Some((_, cell)) = pages.iter().find(|(v, _)| *v == variant) {
            return cell.clone();
        }
        // An old day's pages are never asked for again.
        pages.retain(|(v, _)| v.today >= variant.today);
        let cell = Arc::new(OnceCell::new());
        pages.push((variant, cell.clone()));
        cell
    }
}

#[derive(Debug, Default)]
struct Slots {
    map: HashMap<Key, Arc<Slot>>,
    tick: u64,
}

/// The cache of rendered postmortems (see the module documentation).
#[derive(Debug)]
pub struct DocCache {
    budget: usize,
    slots: Mutex<Slots>,
}

impl DocCache {
    /// A cache holding at most `budget` bytes of rendered output; 0 keeps nothing.
    pub fn new(budget: usize) -> DocCache {
        DocCache {
            budget,
            slots: Mutex::new(Slots::default()),
        }
    }

    /// The slot of `key` at revision `mark` (read from the store just before). A slot of a
    /// newer revision is as good (a write committed meanwhile); an older one is replaced.
    /// Without a mark, or with caching off, a fresh slot that is not kept.
    pub fn slot(&self, key: Key, mark: Option<i64>) -> Arc<Slot> {
        let Some(mark) = mark.filter(|_| self.budget > 0) else {
            return Arc::new(Slot::new(key, 0, false, 0));
        };
        let Ok(mut slots) = self.slots.lock() else {
            return Arc::new(Slot::new(key, mark, false, 0));
        };
        slots.tick += 1;
        let tick = slots.tick;
        if let Some(slot) = slots.map.get(&key)
            && slot.mark >= mark
        {
            slot.used.store(tick, Ordering::Relaxed);
            return slot.clone();
        }
        let slot = Arc::new(Slot::new(key, mark, true, tick));
        slots.map.insert(key, slot.clone());
        if slots.map.len() > MAX_SLOTS {
            Self::evict(&mut slots, usize::MAX, key);
        }
        slot
    }

    /// The JSON document of a slot, loaded by `load` if this revision has none yet (one load at
    /// a time; others wait for it).
    pub async fn json<F>(&self, slot: &Slot, load: F) -> ApiResult<Arc<JsonBody>>
    where
        F: Future<Output = ApiResult<JsonBody>>,
    {
        let mut added = 0;
        let body = slot
            .json
            .get_or_try_init(|| async {
                let body = load.await?;
                added = body.body.len();
                Ok::<_, crate::error::ApiError>(Arc::new(body))
            })
            .await?
            .clone();
        self.grew(slot, added);
        Ok(body)
    }

    /// The page of a slot for a variant, rendered by `load` if this revision has none yet.
    pub async fn page<F>(
        &self,
        slot: &Slot,
        variant: PageVariant,
        load: F,
    ) -> ApiResult<Arc<PageBody>>
    where
        F: Future<Output = ApiResult<PageBody>>,
    {
        let cell = slot.page_cell(variant);
        let mut added = 0;
        let page = cell
            .get_or_try_init(|| async {
                let page = load.await?;
                added = page.bytes();
                Ok::<_, crate::error::ApiError>(Arc::new(page))
            })
            .await?
            .clone();
        self.grew(slot, added);
        Ok(page)
    }

    /// Accounts for `added` bytes in `slot`; over budget, drops the least recently used slots.
    fn grew(&self, slot: &Slot, added: usize) {
        if added == 0 || !slot.kept {
            return;
        }
        slot.bytes.fetch_add(added, Ordering::Relaxed);
        let Ok(mut slots) = self.slots.lock() else {
            return;
        };
        let total: usize = slots
            .map
            .values()
            .map(|s| s.bytes.load(Ordering::Relaxed))
            .sum();
        if total > self.budget {
            Self::evict(&mut slots, self.budget, slot.key);
        }
    }

    /// Drops least recently used slots (never `keep`) until the rest hold at most `budget`
    /// bytes and there are at most [`MAX_SLOTS`].
    fn evict(slots: &mut Slots, budget: usize, keep: Key) {
        let mut order: Vec<(u64, Key, usize)> = slots
            .map
            .iter()
            .filter(|(k, _)| **k != keep)
            .map(|(k, s)| {
                (
                    s.used.load(Ordering::Relaxed),
                    *k,
                    s.bytes.load(Ordering::Relaxed),
                )
            })
            .collect();
        order.sort_unstable_by_key(|(used, _, _)| *used);
        let mut total: usize = slots
            .map
            .values()
            .map(|s| s.bytes.load(Ordering::Relaxed))
            .sum();
        for (_, key, bytes) in order {
            if total <= budget && slots.map.len() <= MAX_SLOTS {
                break;
            }
            slots.map.remove(&key);
            total = total.saturating_sub(bytes);
        }
    }

    /// How many postmortems and bytes are kept, for tests and metrics.
    pub fn usage(&self) -> (usize, usize) {
        self.slots.lock().map_or((0, 0), |s| {
            (
                s.map.len(),
                s.map
                    .values()
                    .map(|x| x.bytes.load(Ordering::Relaxed))
                    .sum(),
            )
        })
    }
}

/// A strong `ETag` for a postmortem's document at a revision: `"rev-42"`.
pub fn document_etag(mark: i64) -> String {
    let mut s = String::with_capacity(16);
    let _ = write!(s, "\"rev-{mark}\"");
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    fn seen() -> Seen {
        Seen {
            status: Status::Published,
            participants: Vec::new(),
        }
    }

    #[test]
    fn holes_take_each_readers_details_escaped() {
        let (csrf, user) = PageBody::markers();
        let page = PageBody::cut(
            seen(),
            &format!("<a>{user}</a><input value=\"{csrf}\"><p>text</p><input value=\"{csrf}\">"),
        );
        assert_eq!(
            page.fill("abc123", "Bo <b> & \"Co\""),
            "<a>Bo &#60;b&#62; &#38; &#34;Co&#34;</a><input value=\"abc123\"><p>text</p><input value=\"abc123\">"
        );
        assert_eq!(
            page.fill("", "Al"),
            "<a>Al</a><input value=\"\"><p>text</p><input value=\"\">"
        );
        let plain = PageBody::cut(seen(), "no holes here");
        assert_eq!(plain.fill("x", "y"), "no holes here");
        assert!(!csrf.is_empty() && csrf != user);
    }

    fn key(n: u32) -> Key {
        Key::new(n).expect("key")
    }

    async fn fill(cache: &DocCache, slot: &Slot, bytes: usize) {
        cache
            .json(slot, async {
                Ok(JsonBody {
                    seen: seen(),
                    body: Bytes::from(vec![b' '; bytes]),
                })
            })
            .await
            .expect("json");
    }

    #[tokio::test]
    async fn a_revision_is_drawn_once_and_a_newer_one_replaces_it() {
        let cache = DocCache::new(1000);
        let slot = cache.slot(key(1), Some(5));
        fill(&cache, &slot, 10).await;
        // The same revision: the same slot, nothing loaded again.
        let again = cache.slot(key(1), Some(5));
        let body = cache
            .json(&again, async { panic!("loaded twice") })
            .await
            .expect("cached");
        assert_eq!(body.body.len(), 10);
        // An older mark (a request that began before a write) may use the newer slot.
        assert_eq!(cache.slot(key(1), Some(4)).mark, 5);
        // A newer revision starts afresh.
        let newer = cache.slot(key(1), Some(6));
        assert_eq!(newer.mark, 6);
        assert!(newer.json.get().is_none());
        assert_eq!(cache.usage().0, 1);
        // Without a revision, or with caching off, nothing is kept.
        assert!(!cache.slot(key(2), None).kept);
        assert!(!DocCache::new(0).slot(key(2), Some(1)).kept);
    }

    #[tokio::test]
    async fn the_least_recently_used_go_first_when_over_budget() {
        let cache = DocCache::new(250);
        for n in 1..=3 {
            let slot = cache.slot(key(n), Some(1));
            fill(&cache, &slot, 100).await;
        }
        // 300 bytes > 250: the oldest, PM-1, went.
        assert_eq!(cache.usage(), (2, 200));
        // Reading PM-2 makes PM-3 the oldest.
        let _ = cache.slot(key(2), Some(1));
        let slot = cache.slot(key(4), Some(1));
        fill(&cache, &slot, 100).await;
        let (n, bytes) = cache.usage();
        assert_eq!((n, bytes), (2, 200));
        let kept: Vec<u32> = (1..=4)
            .filter(|n| {
                cache
                    .slots
                    .lock()
                    .map(|s| s.map.contains_key(&key(*n)))
                    .unwrap_or(false)
            })
            .collect();
        assert_eq!(kept, [2, 4]);
    }
}
