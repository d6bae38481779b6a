//! Every case must run. A case is a `pub async fn` in a suite's file, but it runs only if its
//! suite's list (`__account_store_cases!` and its siblings) names it: nothing else generates its
//! test. This check reads the crate's sources and fails on every `pub async fn` that no list
//! names, and on every listed name that is no `pub async fn` in the file it is listed under.
//! Helpers that are not cases must therefore not be `pub async fn`.

use std::collections::BTreeSet;
use std::path::Path;

/// One suite's registered cases: its directory, and each file's cases.
type Suite = (
    &'static str,
    &'static [(&'static str, &'static [&'static str])],
);

/// A callback for the suites' lists: the same list the exported test macros expand, as names.
macro_rules! listing {
    ($name:ident, $suite:ident { $($file:ident: [$($case:ident),* $(,)?]),* $(,)? }) => {
        const $name: Suite = (
            stringify!($suite),
            &[$((stringify!($file), &[$(stringify!($case)),*])),*],
        );
    };
}

crate::__account_store_cases!(listing, ACCOUNTS,);
crate::__catalog_store_cases!(listing, CATALOG,);
crate::__commerce_checkout_store_cases!(listing, COMMERCE_CHECKOUT,);
crate::__commerce_orders_store_cases!(listing, COMMERCE_ORDERS,);
crate::__commerce_store_cases!(listing, COMMERCE,);
crate::__commerce_billing_store_cases!(listing, COMMERCE_BILLING,);
crate::__exam_store_cases!(listing, EXAMS,);
crate::__payment_gateway_cases!(listing, PAYMENTS,);
crate::__shared_state_cases!(listing, SHARED_STATE,);
crate::__tickets_store_cases!(listing, TICKETS,);
crate::__wallet_store_cases!(listing, WALLET,);

const SUITES: [Suite; 11] = [
    ACCOUNTS,
    CATALOG,
    COMMERCE_CHECKOUT,
    COMMERCE_ORDERS,
    COMMERCE,
    COMMERCE_BILLING,
    EXAMS,
    PAYMENTS,
    SHARED_STATE,
    TICKETS,
    WALLET,
];

/// A case as `suite/file.rs: name`, the way both sides of the comparison spell it.
fn case(suite: &str, file: &str, name: &str) -> String {
    format!("{suite}/{file}.rs: {name}")
}

/// The names of the `pub async fn`s declared in `source` (a declaration starts its line).
fn public_async_fns(source: &str) -> Vec<&str> {
    source
        .lines()
        .filter_map(|line| line.trim_start().strip_prefix("pub async fn "))
        .filter_map(|rest| {
            rest.split(|c: char| !(c.is_alphanumeric() || c == '_'))
                .next()
        })
        .collect()
}

/// Every `pub async fn` under `dir`, as [`case`] spells it, `prefix` being `dir`'s path in `src`.
fn declared_cases(dir: &Path, prefix: &str, found: &mut BTreeSet<String>) {
    let entries = std::fs::read_dir(dir).unwrap_or_else(|error| panic!("{dir:?}: {error}"));
    for entry in entries {
        let path = entry
            .unwrap_or_else(|error| panic!("{dir:?}: {error}"))
            .path();
        let Some(name) = path.file_name().and_then(|name| name.to_str()) else {
            continue;
        };
        if path.is_dir() {
            declared_cases(&path, &format!("{prefix}{name}/"), found);
        } else if let Some(file) = name.strip_suffix(".rs") {
            let source =
                std::fs::read_to_string(&path).unwrap_or_else(|error| panic!("{path:?}: {error}"));
            let suite = prefix.trim_end_matches('/');
            found.extend(
                public_async_fns(&source)
                    .into_iter()
                    .map(|function| case(suite, file, function)),
            );
        }
    }
}

#[test]
fn every_public_async_fn_is_a_registered_case_and_back() {
    let registered: BTreeSet<String> = SUITES
        .iter()
        .flat_map(|(suite, files)| {
            files.iter().flat_map(move |(file, cases)| {
                cases.iter().map(move |name| case(suite, file, name))
            })
        })
        .collect();
    let mut declared = BTreeSet::new();
    declared_cases(
        &Path::new(env!("CARGO_MANIFEST_DIR")).join("src"),
        "",
        &mut declared,
    );
    let unregistered: Vec<_> = declared.difference(&registered).collect();
    let missing: Vec<_> = registered.difference(&declared).collect();
    assert!(
        unregistered.is_empty() && missing.is_empty(),
        "cases that never run (add them to their suite's `__*_cases!` list, or make them \
         private if they are helpers): {unregistered:#?}\n\
         listed cases with no `pub async fn` in their file: {missing:#?}"
    );
}

#[test]
fn declarations_are_read_as_written() {
    // One string per line, so this file itself declares no case.
    let source = [
        "/// pub async fn in_a_comment() {}",
        "pub async fn plain<S: Bound>(store: &S) {}",
        "    pub async fn indented(store: &S) {}",
        "pub(crate) async fn helper() {}",
        "async fn private() {}",
        "pub fn not_async() {}",
    ]
    .join("\n");
    assert_eq!(public_async_fns(&source), ["plain", "indented"]);
}
