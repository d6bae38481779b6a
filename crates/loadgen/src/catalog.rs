//! The catalog workloads of `../shared/bench/BASELINE.md` ("catalog workloads", source 002) on a
//! catalog seeded by `reserva seed catalog` (1,000,000 tests and 1,000,000 courses):
//!
//! - G-LIST: tests, newest first, the first page of 20, with `is_registered` for the caller;
//! - G-LIST-F: available tests, most popular first, pages 1 to 10 (the cursors are fetched once
//!   beforehand; each request asks for one of the ten pages in turn);
//! - G-SEARCH: a full-text search for one of the ten subject words (each in about 10 % of the
//!   titles), first page;
//! - G-SEARCH-F: the same search, available only, newest first;
//! - G-APPLY-SPREAD: apply with a card payment, never-repeated (user, test) pairs, the same test
//!   for 200 users in a row so many users apply to one test at once; checked afterwards: every
//!   answer 201 and every test's `registration_count` grew by its 201s;
//! - G-APPLY-HOT: one test, each user's apply sent 4 times back to back (the 4 requests go to 4
//!   connections at once); checked afterwards: exactly one 201 per user, the others 409, and the
//!   test's count grew by the number of users.
//!
//! Reads rotate over the first 200 users' tokens; the apply workloads take fresh users. Users are
//! seeded by the script with SQL and their tokens signed here, as for the on-sale.

use crate::Options;
use crate::client::{Api, Reply};
use crate::onsale::signed_tokens;
use crate::report::RunStats;
use reqwest::Method;
use serde_json::json;
use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// G-LIST's request.
const LIST: &str = "/api/v1/tests?limit=20";
/// G-LIST-F's first page (the others add their cursor).
const POPULAR: &str = "/api/v1/tests?status=available&sort=popular&limit=20";
/// The two searches: G-SEARCH and G-SEARCH-F, each with its filter.
const SEARCHES: [(&str, &str); 2] = [
    ("G-SEARCH", ""),
    ("G-SEARCH-F", "&status=available&sort=created"),
];

/// G-LIST-F's page after `cursor`.
fn popular_page(cursor: Option<&str>) -> String {
    cursor.map_or_else(
        || POPULAR.to_owned(),
        |cursor| format!("{POPULAR}&cursor={cursor}"),
    )
}

/// A search for `word` with `filter`.
fn search(word: &str, filter: &str) -> String {
    format!("/api/v1/tests?q={word}{filter}&limit=20")
}

/// The readers' tokens: as many users as the source's benchmark rotated over.
const READERS: usize = 200;
/// Applies of one user in G-APPLY-HOT.
const HOT_REPEATS: usize = 4;

/// The header of the catalog tables: the exam columns plus every status seen.
const HEADER: &str = "| workload | connections | requests | req/s | p50 ms | p99 ms | unexpected answers | answers by status |\n|---|---|---|---|---|---|---|---|";

/// One timed run: the exam tool's figures plus the count of each status (0: no answer).
#[derive(Default)]
struct Run {
    stats: RunStats,
    statuses: BTreeMap<u16, usize>,
}

impl Run {
    fn row(self, workload: &str, connections: usize, close: bool) -> String {
        let statuses: Vec<String> = self
            .statuses
            .iter()
            .map(|(status, count)| format!("{status}: {count}"))
            .collect();
        format!(
            "{} {} |",
            self.stats.row(workload, connections, close),
            statuses.join(", ")
        )
    }
}

/// Runs `connections` workers until `duration` passes; request `i` is made by `request(i)`,
/// which answers the status it got (`None` when there is nothing left to send). A status in
/// `expected` counts as expected.
async fn timed<F, Fut>(
    connections: usize,
    duration: Duration,
    expected: &'static [u16],
    request: F,
) -> Run
where
    F: Fn(usize) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Option<u16>> + Send,
{
    let statuses = Arc::new(Mutex::new(BTreeMap::new()));
    let sink = statuses.clone();
    let stats = crate::workloads::timed(connections, duration, move |i| {
        let (reply, sink) = (request(i), sink.clone());
        async move {
            let status = reply.await?;
            if let Ok(mut statuses) = sink.lock() {
                *statuses.entry(status).or_insert(0_usize) += 1;
            }
            Some(expected.contains(&status))
        }
    })
    .await;
    let statuses = statuses.lock().map(|s| s.clone()).unwrap_or_default();
    Run { stats, statuses }
}

/// The status of a reply (0 when no answer came).
fn status(reply: &Result<Reply, String>) -> u16 {
    reply.as_ref().map_or(0, |reply| reply.status)
}

/// An open test to apply for.
#[derive(Debug, Clone)]
struct OpenTest {
    id: String,
    price: i64,
    registrations: i64,
}

/// Every catalog workload at each connection count; then the apply checks.
pub(crate) async fn run(options: &Options) -> Result<(), String> {
    let path = options
        .user_ids
        .as_deref()
        .ok_or("--user-ids is required for the catalog workload")?;
    let secret = options
        .jwt_secret
        .as_deref()
        .ok_or("--jwt-secret (or RESERVA_LOAD_JWT_SECRET) is required for catalog")?;
    let tokens = Arc::new(signed_tokens(path, secret)?);
    if tokens.len() <= READERS {
        return Err(format!(
            "the catalog workload needs more than {READERS} users (got {})",
            tokens.len()
        ));
    }
    let readers: Arc<Vec<String>> = Arc::new(tokens[..READERS].to_vec());
    let words: Arc<Vec<String>> = Arc::new(options.search_words.clone());
    if words.is_empty() {
        return Err("--search-words is empty".into());
    }
    let setup = Api::new(&options.base_url, 8, false)?;
    let cursors = Arc::new(page_cursors(&setup, &readers[0], POPULAR, 10).await?);
    if let Some(directory) = &options.wrk_inputs {
        write_wrk_inputs(directory, &readers, &words, &cursors)?;
        // Tests and users of their own for the wrk applies (scripts/wrk/catalog-applies.lua),
        // beyond what this tool's own apply runs take: its hot test is the first open test and
        // its spread tests the next ones, a few hundred of them in a run; its hot users are
        // taken in order from the 201st. So wrk's hot test is the one after all of them, its
        // spread tests the second half, and its hot users the second half of the users.
        let open = open_tests(&setup, &readers[0], options.spread_tests + 2).await?;
        let line = |test: &OpenTest| format!("{} {}", test.id, test.price);
        let (mine, theirs) = open.split_at(open.len() / 2 + 1);
        let (hot, spread) = theirs
            .split_last()
            .ok_or("too few open tests for the wrk applies")?;
        let write = |name: &str, lines: Vec<String>| write_lines(directory, name, &lines);
        write("spread-tests", spread.iter().map(line).collect())?;
        write("hot-test", vec![line(hot)])?;
        write("hot-tokens", tokens[tokens.len() / 2..].to_vec())?;
        println!(
            "wrk inputs in {directory}: {} spread tests (after this tool's {}), hot test {}, {} hot users",
            spread.len(),
            mine.len(),
            hot.id,
            tokens.len() - tokens.len() / 2
        );
        return Ok(());
    }
    let mut open = open_tests(&setup, &readers[0], options.spread_tests + 1).await?;
    let hot = open.remove(0);
    let spread = Arc::new(open);
    println!(
        "{} users ({READERS} readers), {} open tests for G-APPLY-SPREAD, hot test {} (price {}), \
         search words: {}\n\n{HEADER}",
        tokens.len(),
        spread.len(),
        hot.id,
        hot.price,
        words.join(" ")
    );
    let closes = if options.close_too {
        vec![false, true]
    } else {
        vec![false]
    };
    for close in closes.into_iter().filter(|_| !options.applies_only) {
        for &connections in &options.connections {
            let api = Api::new(&options.base_url, connections, close)?;
            reads(
                options,
                &api,
                &readers,
                &words,
                &cursors,
                connections,
                close,
            )
            .await;
        }
    }
    let spread_outcome = apply_spread(options, &readers, &spread).await?;
    let hot_outcome = apply_hot(options, &tokens, &hot).await?;
    println!();
    check_spread(&setup, &readers[0], &spread, &spread_outcome).await?;
    check_hot(&setup, &readers[0], &hot, &hot_outcome).await
}

/// G-LIST, G-LIST-F, G-SEARCH and G-SEARCH-F at one connection count.
async fn reads(
    options: &Options,
    api: &Api,
    readers: &Arc<Vec<String>>,
    words: &Arc<Vec<String>>,
    cursors: &Arc<Vec<Option<String>>>,
    connections: usize,
    close: bool,
) {
    let get = |path: String, token: String, api: Api| async move {
        Some(api.get_status(&path, &token).await.unwrap_or(0))
    };
    let (list_api, list_readers) = (api.clone(), readers.clone());
    let run = timed(connections, options.duration(), &[200], move |i| {
        let token = list_readers[i % list_readers.len()].clone();
        get(LIST.to_owned(), token, list_api.clone())
    })
    .await;
    println!("{}", run.row("G-LIST", connections, close));

    let (page_api, page_readers, page_cursors) = (api.clone(), readers.clone(), cursors.clone());
    let run = timed(connections, options.duration(), &[200], move |i| {
        let token = page_readers[i % page_readers.len()].clone();
        let path = popular_page(page_cursors[i % page_cursors.len()].as_deref());
        get(path, token, page_api.clone())
    })
    .await;
    println!("{}", run.row("G-LIST-F", connections, close));

    for (name, filter) in SEARCHES {
        let (search_api, search_readers, search_words) =
            (api.clone(), readers.clone(), words.clone());
        let run = timed(connections, options.duration(), &[200], move |i| {
            let token = search_readers[i % search_readers.len()].clone();
            let word = &search_words[i % search_words.len()];
            get(search(word, filter), token, search_api.clone())
        })
        .await;
        println!("{}", run.row(name, connections, close));
    }
}

/// Writes the read workloads for wrk (`scripts/wrk/catalog-reads.lua`) into `directory`: the
/// readers' tokens (`tokens`) and, per workload, the paths its requests rotate over (`G-LIST`,
/// `G-LIST-F`, `G-SEARCH`, `G-SEARCH-F`), one per line, the same requests as the runs here.
fn write_wrk_inputs(
    directory: &str,
    readers: &[String],
    words: &[String],
    cursors: &[Option<String>],
) -> Result<(), String> {
    let write = |name: &str, lines: Vec<String>| write_lines(directory, name, &lines);
    write("tokens", readers.to_vec())?;
    write("G-LIST", vec![LIST.to_owned()])?;
    write(
        "G-LIST-F",
        cursors.iter().map(|c| popular_page(c.as_deref())).collect(),
    )?;
    for (name, filter) in SEARCHES {
        write(
            name,
            words.iter().map(|word| search(word, filter)).collect(),
        )?;
    }
    Ok(())
}

/// Writes `lines`, one per line, to the file `name` in `directory`.
fn write_lines(directory: &str, name: &str, lines: &[String]) -> Result<(), String> {
    let path = std::path::Path::new(directory).join(name);
    std::fs::write(&path, lines.join("\n") + "\n")
        .map_err(|error| format!("{}: {error}", path.display()))
}

/// The cursors of the first `pages` pages of `path` (`None` for the first page).
async fn page_cursors(
    api: &Api,
    token: &str,
    path: &str,
    pages: usize,
) -> Result<Vec<Option<String>>, String> {
    let mut cursors = vec![None];
    while cursors.len() < pages {
        let reply = page(
            api,
            token,
            path,
            cursors.last().cloned().flatten().as_deref(),
        )
        .await?;
        match reply.body["next_cursor"].as_str() {
            Some(next) => cursors.push(Some(next.to_owned())),
            None => break,
        }
    }
    Ok(cursors)
}

/// One page of `path` after `cursor`.
async fn page(api: &Api, token: &str, path: &str, cursor: Option<&str>) -> Result<Reply, String> {
    let path = match cursor {
        Some(cursor) => format!("{path}&cursor={cursor}"),
        None => path.to_owned(),
    };
    let reply = api.call(Method::GET, &path, Some(token), None).await?;
    if reply.status == 200 {
        Ok(reply)
    } else {
        Err(format!("GET {path}: {} {}", reply.status, reply.body))
    }
}

/// How long a test picked for the applies must stay open: a run reads the inputs up to half an
/// hour after they were written, and a test that closes meanwhile answers every apply 409
/// (correctly), which a spread run counts as a failure. With 133,000 of a million seeded tests
/// open and windows of a few days, a run of a thousand tests met a few that closed within it.
const OPEN_FOR_AT_LEAST: chrono::TimeDelta = chrono::TimeDelta::hours(2);

/// Whether `item` (as listed) is still open `OPEN_FOR_AT_LEAST` from now.
fn stays_open(item: &serde_json::Value) -> bool {
    item["ends_at"]
        .as_str()
        .and_then(|ends| chrono::DateTime::parse_from_rfc3339(ends).ok())
        .is_some_and(|ends| ends > chrono::Utc::now() + OPEN_FOR_AT_LEAST)
}

/// `count` open tests, newest first, each open for at least [`OPEN_FOR_AT_LEAST`] more.
async fn open_tests(api: &Api, token: &str, count: usize) -> Result<Vec<OpenTest>, String> {
    let path = "/api/v1/tests?status=available&limit=100";
    let mut tests = Vec::with_capacity(count);
    let mut cursor: Option<String> = None;
    while tests.len() < count {
        let reply = page(api, token, path, cursor.as_deref()).await?;
        for item in reply.body["items"]
            .as_array()
            .into_iter()
            .flatten()
            .filter(|item| stays_open(item))
        {
            if let (Some(id), Some(price), Some(registrations)) = (
                item["id"].as_str(),
                item["price"].as_i64(),
                item["registration_count"].as_i64(),
            ) {
                tests.push(OpenTest {
                    id: id.to_owned(),
                    price,
                    registrations,
                });
            }
        }
        match reply.body["next_cursor"].as_str() {
            Some(next) => cursor = Some(next.to_owned()),
            None => break,
        }
    }
    tests.truncate(count);
    if tests.len() < 2 {
        return Err(format!(
            "only {} open test(s): seed the catalog first (reserva seed catalog)",
            tests.len()
        ));
    }
    Ok(tests)
}

/// An apply for `test` by `token` with a card.
async fn apply(api: &Api, token: &str, test: &OpenTest) -> u16 {
    let body = json!({ "amount": test.price, "payment_method": "card" });
    let path = format!("/api/v1/tests/{}/apply", test.id);
    status(
        &api.call(Method::POST, &path, Some(token), Some(&body))
            .await,
    )
}

/// The 201s each spread test got.
type SpreadOutcome = HashMap<usize, i64>;

/// G-APPLY-SPREAD at each connection count: request `n` (counted across the runs, so no pair
/// repeats) is reader `n % 200` applying for test `n / 200`.
async fn apply_spread(
    options: &Options,
    readers: &Arc<Vec<String>>,
    spread: &Arc<Vec<OpenTest>>,
) -> Result<SpreadOutcome, String> {
    let created = Arc::new(Mutex::new(SpreadOutcome::new()));
    let mut offset = 0;
    for &connections in &options.connections {
        let api = Api::new(&options.base_url, connections, false)?;
        let (readers, spread, created, start) =
            (readers.clone(), spread.clone(), created.clone(), offset);
        let run = timed(connections, options.duration(), &[201], move |i| {
            let index = start + i;
            let (user, test) = (index % readers.len(), index / readers.len());
            let (api, created) = (api.clone(), created.clone());
            let token = readers[user].clone();
            let target = spread.get(test).cloned();
            async move {
                let status = apply(&api, &token, &target?).await;
                if status == 201
                    && let Ok(mut created) = created.lock()
                {
                    *created.entry(test).or_insert(0) += 1;
                }
                Some(status)
            }
        })
        .await;
        offset += run.stats.latencies.len();
        let unexpected = run.stats.unexpected;
        println!("{}", run.row("G-APPLY-SPREAD", connections, false));
        if unexpected > 0 {
            return Err(format!(
                "G-APPLY-SPREAD: {unexpected} answer(s) other than 201 to never-repeated pairs"
            ));
        }
    }
    let outcome = created.lock().map(|c| c.clone()).unwrap_or_default();
    Ok(outcome)
}

/// Each G-APPLY-HOT user's statuses.
type HotOutcome = HashMap<usize, Vec<u16>>;

/// G-APPLY-HOT at each connection count: requests `4u` to `4u + 3` are user `u`'s, users taken
/// fresh (after the readers) across the runs.
async fn apply_hot(
    options: &Options,
    tokens: &Arc<Vec<String>>,
    hot: &OpenTest,
) -> Result<HotOutcome, String> {
    let answers = Arc::new(Mutex::new(HotOutcome::new()));
    let mut offset = READERS * HOT_REPEATS;
    for &connections in &options.connections {
        let api = Api::new(&options.base_url, connections, false)?;
        let (tokens, answers, hot, start) = (tokens.clone(), answers.clone(), hot.clone(), offset);
        let run = timed(connections, options.duration(), &[201, 409], move |i| {
            let user = (start + i) / HOT_REPEATS;
            let (api, answers, hot) = (api.clone(), answers.clone(), hot.clone());
            let token = tokens.get(user).cloned();
            async move {
                let status = apply(&api, &token?, &hot).await;
                if let Ok(mut answers) = answers.lock() {
                    answers.entry(user).or_default().push(status);
                }
                Some(status)
            }
        })
        .await;
        // The next run starts with a user none of whose applies were sent.
        offset += run.stats.latencies.len().next_multiple_of(HOT_REPEATS) + HOT_REPEATS;
        println!("{}", run.row("G-APPLY-HOT", connections, false));
    }
    let outcome = answers.lock().map(|a| a.clone()).unwrap_or_default();
    Ok(outcome)
}

/// The stored count of a test now.
async fn registrations_of(api: &Api, token: &str, id: &str) -> Result<i64, String> {
    let path = format!("/api/v1/tests/{id}");
    let reply = api.call(Method::GET, &path, Some(token), None).await?;
    reply.body["registration_count"]
        .as_i64()
        .ok_or_else(|| format!("GET {path}: {} {}", reply.status, reply.body))
}

/// Every spread test's count grew by exactly its 201s.
async fn check_spread(
    api: &Api,
    token: &str,
    spread: &[OpenTest],
    outcome: &SpreadOutcome,
) -> Result<(), String> {
    let started = Instant::now();
    let mut wrong = Vec::new();
    for (&test, &created) in outcome {
        let before = &spread[test];
        let now = registrations_of(api, token, &before.id).await?;
        if now - before.registrations != created {
            wrong.push(format!(
                "test {}: {created} created, count {} → {now}",
                before.id, before.registrations
            ));
        }
    }
    let total: i64 = outcome.values().sum();
    println!(
        "G-APPLY-SPREAD check: {total} registrations over {} tests, counts checked in {} ms: {}",
        outcome.len(),
        started.elapsed().as_millis(),
        if wrong.is_empty() { "PASS" } else { "FAIL" }
    );
    if wrong.is_empty() {
        Ok(())
    } else {
        Err(format!("G-APPLY-SPREAD counts wrong: {wrong:#?}"))
    }
}

/// Exactly one 201 per hot user, the rest 409, and the count grew by the number of users.
async fn check_hot(
    api: &Api,
    token: &str,
    hot: &OpenTest,
    outcome: &HotOutcome,
) -> Result<(), String> {
    let mut wrong = Vec::new();
    for (user, statuses) in outcome {
        let created = statuses.iter().filter(|status| **status == 201).count();
        let refused = statuses.iter().filter(|status| **status == 409).count();
        if created != 1 || created + refused != statuses.len() {
            wrong.push(format!("user {user}: {statuses:?}"));
        }
    }
    let now = registrations_of(api, token, &hot.id).await?;
    let users = i64::try_from(outcome.len()).unwrap_or(i64::MAX);
    let grew = now - hot.registrations;
    println!(
        "G-APPLY-HOT check: {} users, {} with other than exactly one 201 and the rest 409; count \
         {} → {now} (+{grew}): {}",
        outcome.len(),
        wrong.len(),
        hot.registrations,
        if wrong.is_empty() && grew == users {
            "PASS"
        } else {
            "FAIL"
        }
    );
    wrong.truncate(20);
    if wrong.is_empty() && grew == users {
        Ok(())
    } else {
        Err(format!(
            "G-APPLY-HOT: count grew by {grew} for {users} users; first wrong users: {wrong:#?}"
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::stays_open;
    use serde_json::json;

    #[test]
    fn only_tests_open_for_two_more_hours_are_picked() {
        let at = |hours: i64| (chrono::Utc::now() + chrono::TimeDelta::hours(hours)).to_rfc3339();
        assert!(stays_open(&json!({ "ends_at": at(3) })));
        assert!(!stays_open(&json!({ "ends_at": at(1) })));
        assert!(!stays_open(&json!({ "ends_at": "not a date" })));
        assert!(!stays_open(&json!({})));
    }
}
