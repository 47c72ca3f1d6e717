//! Search ranking on SQLite: two functions registered on every pool connection.
//!
//! - `debrief_rank(postmortem_search, w₁, w₂, …)`, an FTS5 auxiliary function, computes exactly
//!   what FTS5's built-in `bm25()` computes (Okapi BM25, k1 = 1.2, b = 0.75, a term's hits
//!   weighted by the weight of the column they are in, the row's length being all its columns'
//!   tokens), to the last bit, and returns it positive (higher is better).
//! - `debrief_tokens(text, …)` counts the tokens FTS5 indexes for those texts, with the same
//!   tokenizer as `postmortem_search` (`porter unicode61 remove_diacritics 2`).
//!
//! Why not `bm25()` itself: it costs too much per matching row. Per row it (1) asks FTS5 for all
//! hits of all query terms as one merged, sorted instance list, and (2) looks the row's length up
//! in the `_docsize` table — a statement and a B-tree seek per match, half of a broad query's
//! time. Here (1) each term's position list is walked in place (`xPhraseFirst`/`xPhraseNext`),
//! and (2) the length is read from the rowid: a search row's rowid is the postmortem's id shifted
//! left by [`LENGTH_BITS`] plus the row's length in tokens (`debrief_tokens` when it is written).
//! A length too large for those bits is stored as [`LENGTH_MASK`] and looked up as `bm25()` does.
//! The per-query statistics (each term's IDF and the average row length) are computed once per
//! statement, as `bm25()` does, except that counting the rows a term is in stops at half the
//! table, where the IDF is `bm25()`'s floor whatever the rest of the count.
//!
//! This is the one place in Debrief with `unsafe` code: FTS5's extension API is C. Every pointer
//! used comes from SQLite for the duration of one call, and no Rust panic crosses back into C.

#![expect(
    unsafe_code,
    reason = "FTS5 auxiliary functions and tokenizers can only be used through SQLite's C API"
)]

use std::ffi::{c_char, c_int, c_void};
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::ptr;

use libsqlite3_sys as ffi;

/// How many low bits of a search row's rowid hold its length in tokens. The SQL that writes and
/// joins search rows spells these out as `<< 24` and `16777215`.
pub(crate) const LENGTH_BITS: u32 = 24;
/// The largest length a rowid holds; a row this long or longer has its length looked up.
pub(crate) const LENGTH_MASK: i64 = (1 << LENGTH_BITS) - 1;

/// BM25's term-frequency saturation and length normalisation, as FTS5's `bm25()` has them.
const K1: f64 = 1.2;
const B: f64 = 0.75;

/// Registers `debrief_rank` and `debrief_tokens` on a connection. `db` must be an open
/// connection that nothing else uses during the call.
pub(crate) fn register(db: ptr::NonNull<ffi::sqlite3>) -> Result<(), String> {
    let db = db.as_ptr();
    // SAFETY: `db` is an open connection held exclusively by the caller; the statement is
    // finalized before returning; `api` outlives the statement that writes it.
    unsafe {
        let mut api: *mut ffi::fts5_api = ptr::null_mut();
        let mut stmt: *mut ffi::sqlite3_stmt = ptr::null_mut();
        let rc = ffi::sqlite3_prepare_v2(
            db,
            c"SELECT fts5(?1)".as_ptr(),
            -1,
            &mut stmt,
            ptr::null_mut(),
        );
        if rc != ffi::SQLITE_OK {
            return Err(format!("this SQLite has no FTS5 (error {rc})"));
        }
        ffi::sqlite3_bind_pointer(
            stmt,
            1,
            (&raw mut api).cast::<c_void>(),
            c"fts5_api_ptr".as_ptr(),
            None,
        );
        ffi::sqlite3_step(stmt);
        ffi::sqlite3_finalize(stmt);
        if api.is_null() || (*api).iVersion < 3 {
            return Err("this SQLite's FTS5 is too old (API version 3 needed)".into());
        }
        let (Some(create), Some(find)) = ((*api).xCreateFunction, (*api).xFindTokenizer_v2) else {
            return Err("this SQLite's FTS5 lacks functions or tokenizers".into());
        };
        let rc = create(
            api,
            c"debrief_rank".as_ptr(),
            ptr::null_mut(),
            Some(rank),
            None,
        );
        if rc != ffi::SQLITE_OK {
            return Err(format!("cannot register debrief_rank (error {rc})"));
        }

        let mut user: *mut c_void = ptr::null_mut();
        let mut module: *mut ffi::fts5_tokenizer_v2 = ptr::null_mut();
        let rc = find(api, c"porter".as_ptr(), &mut user, &mut module);
        if rc != ffi::SQLITE_OK || module.is_null() {
            return Err(format!("FTS5 has no porter tokenizer (error {rc})"));
        }
        let module = *module;
        let (Some(new), Some(_), Some(_)) = (module.xCreate, module.xDelete, module.xTokenize)
        else {
            return Err("FTS5's porter tokenizer is incomplete".into());
        };
        let mut args: [*const c_char; 3] = [
            c"unicode61".as_ptr(),
            c"remove_diacritics".as_ptr(),
            c"2".as_ptr(),
        ];
        let mut tokenizer: *mut ffi::Fts5Tokenizer = ptr::null_mut();
        let rc = new(user, args.as_mut_ptr(), 3, &mut tokenizer);
        if rc != ffi::SQLITE_OK || tokenizer.is_null() {
            return Err(format!("cannot create the porter tokenizer (error {rc})"));
        }
        let counter = Box::into_raw(Box::new(Counter { module, tokenizer }));
        // On failure SQLite calls the destructor itself.
        let rc = ffi::sqlite3_create_function_v2(
            db,
            c"debrief_tokens".as_ptr(),
            -1,
            ffi::SQLITE_UTF8 | ffi::SQLITE_DETERMINISTIC | ffi::SQLITE_INNOCUOUS,
            counter.cast::<c_void>(),
            Some(tokens),
            None,
            None,
            Some(drop_counter),
        );
        if rc != ffi::SQLITE_OK {
            return Err(format!("cannot register debrief_tokens (error {rc})"));
        }
    }
    Ok(())
}

/// A connection's tokenizer for `debrief_tokens`, made once when the function is registered.
struct Counter {
    module: ffi::fts5_tokenizer_v2,
    tokenizer: *mut ffi::Fts5Tokenizer,
}

unsafe extern "C" fn drop_counter(p: *mut c_void) {
    // SAFETY: `p` is the `Counter` made in `register`; SQLite calls this once, when the
    // function is dropped with its connection.
    unsafe {
        let counter = Box::from_raw(p.cast::<Counter>());
        if let Some(delete) = counter.module.xDelete {
            delete(counter.tokenizer);
        }
    }
}

/// Counts one column's tokens as FTS5 does when it indexes them: a token that shares its
/// position with the previous one (a synonym) does not count.
unsafe extern "C" fn count_token(
    n: *mut c_void,
    flags: c_int,
    _token: *const c_char,
    _len: c_int,
    _start: c_int,
    _end: c_int,
) -> c_int {
    // SAFETY: `n` is the column counter `tokens` passes to the tokenizer.
    let n = unsafe { &mut *n.cast::<i64>() };
    if flags & ffi::FTS5_TOKEN_COLOCATED == 0 || *n == 0 {
        *n += 1;
    }
    ffi::SQLITE_OK
}

/// `debrief_tokens(text, …)`: how many tokens FTS5 indexes for these column texts (NULL counts
/// as empty).
unsafe extern "C" fn tokens(
    ctx: *mut ffi::sqlite3_context,
    n: c_int,
    args: *mut *mut ffi::sqlite3_value,
) {
    // SAFETY: SQLite passes this call's context and `n` argument values; the user data is the
    // connection's `Counter`, used by one statement at a time.
    unsafe {
        let counter = &*ffi::sqlite3_user_data(ctx).cast::<Counter>();
        let Some(tokenize) = counter.module.xTokenize else {
            ffi::sqlite3_result_error_code(ctx, ffi::SQLITE_MISUSE);
            return;
        };
        let mut total: i64 = 0;
        for i in 0..n.max(0) as usize {
            let value = *args.add(i);
            let text = ffi::sqlite3_value_text(value);
            if text.is_null() {
                continue;
            }
            let len = ffi::sqlite3_value_bytes(value);
            let mut column: i64 = 0;
            let rc = tokenize(
                counter.tokenizer,
                (&raw mut column).cast::<c_void>(),
                ffi::FTS5_TOKENIZE_DOCUMENT,
                text.cast::<c_char>(),
                len,
                ptr::null(),
                0,
                Some(count_token),
            );
            if rc != ffi::SQLITE_OK {
                ffi::sqlite3_result_error_code(ctx, rc);
                return;
            }
            total += column;
        }
        ffi::sqlite3_result_int64(ctx, total);
    }
}

/// What a statement's ranking needs once: each query term's IDF and the average row length.
struct QueryStats {
    idf: Vec<f64>,
    avgdl: f64,
    /// Each column's weight, from the call's arguments (1 for a column without one).
    weights: Vec<f64>,
}

unsafe extern "C" fn drop_stats(p: *mut c_void) {
    // SAFETY: `p` was made by `Box::into_raw` in `stats` and FTS5 frees it exactly once.
    drop(unsafe { Box::from_raw(p.cast::<QueryStats>()) });
}

/// Counts the rows a term is in, for its IDF, and stops as soon as the count reaches half the
/// table: from there on the IDF is bm25()'s floor whatever the final count (see `stats`), and
/// the terms most often in that case — words every write-up has — have the longest lists.
struct RowCount {
    hits: i64,
    rows: i64,
}

impl RowCount {
    /// Whether the term is in at least half the rows, where bm25() gives it the floor IDF.
    fn common(&self) -> bool {
        2 * self.hits >= self.rows
    }
}

unsafe extern "C" fn count_rows(
    _api: *const ffi::Fts5ExtensionApi,
    _fts: *mut ffi::Fts5Context,
    count: *mut c_void,
) -> c_int {
    // SAFETY: `count` is the `RowCount` that `stats` passes to `xQueryPhrase`.
    let count = unsafe { &mut *count.cast::<RowCount>() };
    count.hits += 1;
    if count.common() {
        // Ends xQueryPhrase's walk without an error.
        ffi::SQLITE_DONE
    } else {
        ffi::SQLITE_OK
    }
}

/// Calls an entry of the extension API, or fails with SQLITE_MISUSE if this FTS5 lacks it.
macro_rules! call {
    ($api:expr, $f:ident ( $($arg:expr),* )) => {
        match $api.$f {
            Some(f) => f($($arg),*),
            None => return Err(ffi::SQLITE_MISUSE),
        }
    };
}

/// This statement's statistics, computed on its first row.
///
/// SAFETY: `api` and `fts` are the arguments of the current auxiliary function call.
unsafe fn stats<'a>(
    api: &ffi::Fts5ExtensionApi,
    fts: *mut ffi::Fts5Context,
    args: &[*mut ffi::sqlite3_value],
) -> Result<&'a QueryStats, c_int> {
    unsafe {
        let p = call!(api, xGetAuxdata(fts, 0));
        if !p.is_null() {
            return Ok(&*p.cast::<QueryStats>());
        }
        let phrases = call!(api, xPhraseCount(fts));
        let mut rows: i64 = 0;
        let rc = call!(api, xRowCount(fts, &mut rows));
        if rc != ffi::SQLITE_OK {
            return Err(rc);
        }
        let mut tokens: i64 = 0;
        let rc = call!(api, xColumnTotalSize(fts, -1, &mut tokens));
        if rc != ffi::SQLITE_OK {
            return Err(rc);
        }
        let avgdl = tokens as f64 / rows as f64;
        let mut idf = Vec::with_capacity(phrases.max(0) as usize);
        for i in 0..phrases {
            let mut count = RowCount { hits: 0, rows };
            let rc = call!(
                api,
                xQueryPhrase(fts, i, (&raw mut count).cast::<c_void>(), Some(count_rows))
            );
            if rc != ffi::SQLITE_OK {
                return Err(rc);
            }
            // As bm25(): IDF = ln((N - n + 0.5) / (n + 0.5)), which is 0 or less exactly when
            // n >= N / 2 (so also for a count stopped there); such a term gets a tiny positive
            // IDF instead, so a match always scores above no match.
            let hits = count.hits as f64;
            let v = ((rows as f64 - hits + 0.5) / (hits + 0.5)).ln();
            idf.push(if v <= 0.0 { 1e-6 } else { v });
        }
        let columns = call!(api, xColumnCount(fts)).max(0) as usize;
        let weights = (0..columns)
            .map(|c| args.get(c).map_or(1.0, |&v| ffi::sqlite3_value_double(v)))
            .collect();
        let stats = Box::new(QueryStats {
            idf,
            avgdl,
            weights,
        });
        let p = Box::into_raw(stats);
        let rc = call!(api, xSetAuxdata(fts, p.cast::<c_void>(), Some(drop_stats)));
        if rc != ffi::SQLITE_OK {
            // xSetAuxdata calls the destructor itself when it fails.
            return Err(rc);
        }
        Ok(&*p)
    }
}

/// The current row's score.
///
/// SAFETY: the arguments are those of the current auxiliary function call.
unsafe fn score(
    api: &ffi::Fts5ExtensionApi,
    fts: *mut ffi::Fts5Context,
    args: &[*mut ffi::sqlite3_value],
) -> Result<f64, c_int> {
    unsafe {
        let stats = stats(api, fts, args)?;
        let packed = call!(api, xRowid(fts)) & LENGTH_MASK;
        let d = if packed < LENGTH_MASK {
            packed as f64
        } else {
            let mut size: c_int = 0;
            let rc = call!(api, xColumnSize(fts, -1, &mut size));
            if rc != ffi::SQLITE_OK {
                return Err(rc);
            }
            f64::from(size)
        };
        let norm = K1 * (1.0 - B + B * d / stats.avgdl);
        let (Some(first), Some(next)) = (api.xPhraseFirst, api.xPhraseNext) else {
            return Err(ffi::SQLITE_MISUSE);
        };
        let mut score = 0.0;
        for (i, idf) in stats.idf.iter().enumerate() {
            let mut iter = ffi::Fts5PhraseIter {
                a: ptr::null(),
                b: ptr::null(),
            };
            let (mut col, mut off) = (0, 0);
            let rc = first(fts, i as c_int, &mut iter, &mut col, &mut off);
            if rc != ffi::SQLITE_OK {
                return Err(rc);
            }
            // The term's hits, weighted by their column and summed in position order, as
            // bm25() sums them.
            let mut freq = 0.0;
            while col >= 0 {
                freq += stats.weights.get(col as usize).copied().unwrap_or(1.0);
                next(fts, &mut iter, &mut col, &mut off);
            }
            score += idf * ((freq * (K1 + 1.0)) / (freq + norm));
        }
        Ok(score)
    }
}

/// The function SQLite calls for each row: `debrief_rank(table, weight of column 0, …)`.
unsafe extern "C" fn rank(
    api: *const ffi::Fts5ExtensionApi,
    fts: *mut ffi::Fts5Context,
    ctx: *mut ffi::sqlite3_context,
    n: c_int,
    args: *mut *mut ffi::sqlite3_value,
) {
    let result = catch_unwind(AssertUnwindSafe(|| {
        // SAFETY: SQLite passes a valid API table and `n` argument values for this call.
        unsafe {
            let args: &[*mut ffi::sqlite3_value] = if n > 0 && !args.is_null() {
                std::slice::from_raw_parts(args, n as usize)
            } else {
                &[]
            };
            score(&*api, fts, args)
        }
    }));
    // SAFETY: `ctx` is this call's result context.
    unsafe {
        match result {
            Ok(Ok(score)) => ffi::sqlite3_result_double(ctx, score),
            Ok(Err(rc)) => ffi::sqlite3_result_error_code(ctx, rc),
            Err(_) => ffi::sqlite3_result_error(ctx, c"debrief_rank failed".as_ptr(), -1),
        }
    }
}

#[cfg(test)]
mod tests {
    use sqlx::Row;

    use crate::SqliteStore;

    /// `debrief_rank` must rank exactly as FTS5's own `bm25()`: same scores to the last bit, for
    /// single words, several words, phrases, column weights and rows of different lengths — which
    /// also shows that `debrief_tokens` counts what FTS5 indexes (the length is in the rowid).
    #[tokio::test]
    async fn ranks_exactly_as_bm25() {
        let store = SqliteStore::connect("sqlite::memory:").await.expect("open");
        let filler = "filler words ".repeat(200);
        let mut texts = vec![
            (
                "Checkout timed out",
                "The connection pool was exhausted.",
                "pool pool pool",
            ),
            (
                "Expired certificate",
                "TLS handshakes failed",
                "renewal job had not run",
            ),
            (
                "Connection pool exhausted on payments",
                "",
                "raised the pool size",
            ),
            ("Slow search", "queries timed out after the pool resize", ""),
            ("Disk full", "log rotation stopped", filler.as_str()),
            (
                "Database failover",
                "connection strings pointed at the old primary",
                "pool",
            ),
            (
                "Café outage: naïve retries",
                "dead-letter queue grew; HTTP 503s",
                "OOMKilled ×3",
            ),
        ];
        // Unrelated rows, so that the query terms have real IDFs (a term in more than half the
        // rows gets bm25's floor): "quiet" is then in 10 of 27 rows, "good" in 20.
        texts.extend((0..20).map(|i| {
            let title = if i % 2 == 0 {
                "Quiet day"
            } else {
                "Calm night"
            };
            (title, "nothing happened", "all good")
        }));
        for (i, (title, summary, body)) in texts.iter().enumerate() {
            let id = i as i64 + 1;
            sqlx::query(crate::INSERT_SEARCH_ROW)
                .bind(id)
                .bind(title)
                .bind(summary)
                .bind(body)
                .execute(&store.pool)
                .await
                .expect("insert");
            let rowid: i64 =
                sqlx::query_scalar("SELECT rowid FROM postmortem_search WHERE rowid >> 24 = ?1")
                    .bind(id)
                    .fetch_one(&store.pool)
                    .await
                    .expect("the row is keyed by its id");
            assert!(
                rowid & super::LENGTH_MASK > 0,
                "{title}: no length in {rowid}"
            );
        }
        for query in [
            "\"pool\"",
            "\"connection\" AND \"pool\"",
            "\"connection pool\"",
            "\"timed out\" AND \"pool\"",
            "\"certificate\"",
            "\"cafe\" AND \"naive\"",
            "\"dead letter\" AND \"503\"",
            "\"oomkilled\"",
            // Under half the rows, and over half: the floor IDF, reached without counting all.
            "\"quiet\"",
            "\"good\"",
            "\"quiet\" AND \"nothing happened\"",
        ] {
            for weights in ["", ", 10.0, 4.0, 1.0", ", 1.0, 2.5"] {
                let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
                    "SELECT rowid, debrief_rank(postmortem_search{weights}) AS ours,
                            -bm25(postmortem_search{weights}) AS theirs
                     FROM postmortem_search WHERE postmortem_search MATCH ?1"
                )))
                .bind(query)
                .fetch_all(&store.pool)
                .await
                .expect("rank");
                assert!(!rows.is_empty(), "{query} matches nothing");
                for row in rows {
                    let ours: f64 = row.get("ours");
                    let theirs: f64 = row.get("theirs");
                    assert_eq!(
                        ours.to_bits(),
                        theirs.to_bits(),
                        "{query}{weights}, row {}: {ours} against bm25's {theirs}",
                        row.get::<i64, _>("rowid")
                    );
                }
            }
        }
    }
}
