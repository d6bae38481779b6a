//! The `reserva` binary's one-shot commands as a newcomer meets them: run without a terminal, with
//! nothing configured, on an embedded SQLite file. Each test works in its own scratch directory.
#![expect(
    clippy::expect_used,
    reason = "the helpers fail the test loudly when the binary cannot run"
)]

use chrono::{Duration, Utc};
use std::path::PathBuf;
use std::process::{Command, Output, Stdio};

const BINARY: &str = env!("CARGO_BIN_EXE_reserva");

/// A scratch directory (the working directory of the commands), removed on drop.
struct Scratch(PathBuf);

impl Scratch {
    fn new(name: &str) -> Self {
        let path = std::env::temp_dir().join(format!(
            "reserva-cli-{name}-{}-{}",
            std::process::id(),
            uuid::Uuid::new_v4().simple()
        ));
        std::fs::create_dir_all(&path).expect("scratch directory");
        Self(path)
    }

    /// `reserva` with a clean environment: no terminal, no configuration but the time zone.
    fn reserva(&self, arguments: &[&str]) -> Command {
        let mut command = Command::new(BINARY);
        command
            .args(arguments)
            .current_dir(&self.0)
            .env_clear()
            .env("PATH", std::env::var("PATH").unwrap_or_default())
            .env("RESERVA_BUSINESS__TIME_ZONE", "Asia/Seoul")
            .stdin(Stdio::null());
        command
    }

    fn run(&self, arguments: &[&str], environment: &[(&str, &str)]) -> Output {
        self.reserva(arguments)
            .envs(environment.iter().copied())
            .output()
            .expect("reserva runs")
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

const DEV_SECRET_WARNING: &str = "generated a random development secret";

/// `reserva admin create` for one administrator.
const ADMIN_CREATE: &[&str] = &[
    "admin",
    "create",
    "--email",
    "admin@example.com",
    "--username",
    "admin",
];

#[test]
fn admin_create_without_a_terminal_asks_for_the_variable() {
    let scratch = Scratch::new("admin-no-tty");
    let output = scratch.run(ADMIN_CREATE, &[]);
    let stderr = text(&output.stderr);
    assert!(!output.status.success(), "{stderr}");
    assert!(stderr.contains("RESERVA_ADMIN_PASSWORD"), "{stderr}");
    assert!(!stderr.contains("No such device"), "{stderr}");
}

#[test]
fn one_shot_commands_do_not_warn_about_a_development_secret() {
    let scratch = Scratch::new("no-warning");
    let created = scratch.run(
        ADMIN_CREATE,
        &[("RESERVA_ADMIN_PASSWORD", "admin-password-1")],
    );
    let stderr = text(&created.stderr);
    assert!(created.status.success(), "{stderr}");
    assert!(
        text(&created.stdout).contains("created administrator admin <admin@example.com>"),
        "{}",
        text(&created.stdout)
    );
    assert!(!stderr.contains(DEV_SECRET_WARNING), "{stderr}");
    for command in [&["migrate"][..], &["config"], &["exams", "ensure-slots"]] {
        let output = scratch.run(command, &[]);
        let stderr = text(&output.stderr);
        assert!(output.status.success(), "{command:?}: {stderr}");
        assert!(
            !stderr.contains(DEV_SECRET_WARNING),
            "{command:?}: {stderr}"
        );
    }
}

#[test]
fn serve_still_warns_about_a_development_secret() {
    let scratch = Scratch::new("serve-warns");
    let lines = serve_until_listening(&scratch, &[]);
    assert!(
        lines.iter().any(|line| line.contains(DEV_SECRET_WARNING)),
        "serve warns before it listens: {lines:#?}"
    );
}

#[test]
fn config_redacts_passwords_not_whole_urls() {
    let scratch = Scratch::new("config");
    let output = scratch.run(&["config"], &[]);
    let stdout = text(&output.stdout);
    assert!(output.status.success(), "{}", text(&output.stderr));
    assert!(
        stdout.contains(r#""url": "sqlite://./reserva.db""#),
        "{stdout}"
    );

    let output = scratch.run(
        &["config"],
        &[
            ("DATABASE_URL", "postgres://app:hunter2@db.invalid/reserva"),
            ("REDIS_URL", "redis://:swordfish@cache.invalid:6379"),
            (
                "RESERVA_AUTH__JWT_SECRET",
                "a-signing-key-of-at-least-32-bytes-long",
            ),
        ],
    );
    let stdout = text(&output.stdout);
    assert!(output.status.success(), "{}", text(&output.stderr));
    assert!(
        stdout.contains(r#""url": "postgres://app:***@db.invalid/reserva""#),
        "{stdout}"
    );
    assert!(
        stdout.contains(r#""url": "redis://:***@cache.invalid:6379""#),
        "{stdout}"
    );
    assert!(stdout.contains(r#""jwt_secret": "[redacted]""#), "{stdout}");
    for secret in ["hunter2", "swordfish", "signing-key"] {
        assert!(!stdout.contains(secret), "{stdout}");
    }
}

#[test]
fn exams_slots_marks_the_hours_the_api_refuses() {
    let scratch = Scratch::new("slots");
    let ensured = scratch.run(&["exams", "ensure-slots"], &[]);
    assert!(ensured.status.success(), "{}", text(&ensured.stderr));
    let today = Utc::now()
        .with_timezone(&chrono_tz::Asia::Seoul)
        .date_naive();

    // Every hour of the day after tomorrow starts less than 72 hours from now.
    let soon = (today + Duration::days(2)).to_string();
    let output = scratch.run(&["exams", "slots", "--date", &soon], &[]);
    let stdout = text(&output.stdout);
    assert!(output.status.success(), "{}", text(&output.stderr));
    let hours: Vec<&str> = stdout.lines().filter(|line| line.contains('%')).collect();
    assert_eq!(hours.len(), 24, "{stdout}");
    assert!(
        hours.iter().all(|line| line.ends_with("lead time")),
        "{stdout}"
    );
    assert!(
        stdout.contains("lead time: starts less than 72 hours from now"),
        "{stdout}"
    );

    // Ten days ahead, every hour can be booked: nothing is marked, no legend.
    let later = (today + Duration::days(10)).to_string();
    let output = scratch.run(&["exams", "slots", "--date", &later], &[]);
    let stdout = text(&output.stdout);
    let hours: Vec<&str> = stdout.lines().filter(|line| line.contains('%')).collect();
    assert_eq!(hours.len(), 24, "{stdout}");
    assert!(hours.iter().all(|line| line.ends_with('%')), "{stdout}");
    assert!(!stdout.contains("lead time"), "{stdout}");
}

#[test]
fn help_says_what_reserva_is_and_how_to_start() {
    let scratch = Scratch::new("help");
    let output = scratch.run(&["--help"], &[]);
    let stdout = text(&output.stdout);
    assert!(output.status.success());
    assert!(
        stdout.starts_with("Reserva: a reservation and booking backend."),
        "{stdout}"
    );
    assert!(stdout.contains("reserva migrate"), "{stdout}");
}

#[test]
fn wallet_verify_on_a_fresh_store_is_clean_and_an_unreachable_one_is_not_a_violation() {
    let scratch = Scratch::new("wallet-verify");
    let output = scratch.run(&["wallet", "verify"], &[]);
    let stdout = text(&output.stdout);
    assert_eq!(output.status.code(), Some(0), "{}", text(&output.stderr));
    assert!(stdout.contains("ledger: 0 account(s)"), "{stdout}");
    assert!(
        stdout.contains("seats: 0 seat(s) checked, 0 violation(s)"),
        "{stdout}"
    );
    assert!(stdout.ends_with("clean\n"), "{stdout}");

    // Nothing listens on port 1: the audit cannot run, which is not a finding.
    let unreachable = scratch.run(
        &["wallet", "verify"],
        &[(
            "DATABASE_URL",
            "postgres://reserva@127.0.0.1:1/reserva?connect_timeout=2",
        )],
    );
    let stderr = text(&unreachable.stderr);
    assert_eq!(unreachable.status.code(), Some(3), "{stderr}");
    assert!(stderr.contains("cannot audit the store"), "{stderr}");
}

/// `reserva seed catalog` with a small catalog, without a terminal (plain progress lines).
const SMALL_SEED: &[&str] = &[
    "seed",
    "catalog",
    "--tests",
    "300",
    "--courses",
    "200",
    "--users",
    "5",
    "--registrations-per-user",
    "3",
    "--batch",
    "120",
];

/// Seeds [`SMALL_SEED`] into the store `environment` names and checks what the command says and
/// what both audits find; a second seed into the same store stops at its first batch.
fn seed_small_catalog_and_verify(scratch: &Scratch, environment: &[(&str, &str)]) {
    let migrate = scratch.run(&["migrate"], environment);
    assert!(migrate.status.success(), "{}", text(&migrate.stderr));
    let output = scratch.run(SMALL_SEED, environment);
    let (stdout, stderr) = (text(&output.stdout), text(&output.stderr));
    assert_eq!(output.status.code(), Some(0), "{stderr}");
    assert!(
        stdout.starts_with(
            "seeded 300 test(s), 200 course(s), 5 user(s), 15 registration(s): 520 rows in "
        ),
        "{stdout}"
    );
    assert!(stdout.contains("rows/s)\n"), "{stdout}");
    assert!(
        stdout.contains("search words (each in about 10 % of titles): kubernetes graphql"),
        "{stdout}"
    );
    for line in [
        "tests: 0 / 300",
        "tests: 300 / 300",
        "courses: 200 / 200",
        "users: 5 / 5",
        "registrations: 15 / 15",
        "recount: 1 / 1",
    ] {
        assert!(stderr.lines().any(|l| l == line), "{line}: {stderr}");
    }
    let verify = scratch.run(&["catalog", "verify"], environment);
    let report = text(&verify.stdout);
    assert_eq!(
        verify.status.code(),
        Some(0),
        "{report}{}",
        text(&verify.stderr)
    );
    assert_eq!(
        report,
        "catalog: 500 item(s) checked, 0 violation(s)\nclean\n"
    );
    let wallet = scratch.run(&["wallet", "verify"], environment);
    assert_eq!(wallet.status.code(), Some(0), "{}", text(&wallet.stdout));

    let again = scratch.run(SMALL_SEED, environment);
    let stderr = text(&again.stderr);
    assert_eq!(again.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("seeding stopped"), "{stderr}");
}

#[test]
fn seed_catalog_fills_sqlite_and_the_catalog_audit_is_clean() {
    let scratch = Scratch::new("seed-sqlite");
    seed_small_catalog_and_verify(&scratch, &[]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn seed_catalog_fills_postgres_with_counts_that_match() {
    let database = reserva_adapter_postgres::test_support::TemporaryDatabase::create().await;
    let scratch = Scratch::new("seed-postgres");
    let environment = [("DATABASE_URL", database.url.as_str())];
    seed_small_catalog_and_verify(&scratch, &environment);
    let counts = Command::new("psql")
        .args([
            database.url.as_str(),
            "-XAtc",
            "SELECT (SELECT sum(registration_count) FROM catalog_items), \
             (SELECT count(*) FROM catalog_registrations), \
             (SELECT count(*) FROM users WHERE role = 'tutor'), \
             (SELECT count(DISTINCT tutor_id) FROM catalog_items WHERE kind = 'course')",
        ])
        .output()
        .expect("psql runs");
    assert_eq!(
        text(&counts.stdout).trim(),
        "15|15|1|1",
        "{}",
        text(&counts.stderr)
    );
}

#[test]
fn catalog_verify_of_an_unreachable_store_is_not_a_violation() {
    let scratch = Scratch::new("catalog-verify");
    let unreachable = scratch.run(
        &["catalog", "verify"],
        &[(
            "DATABASE_URL",
            "postgres://reserva@127.0.0.1:1/reserva?connect_timeout=2",
        )],
    );
    let stderr = text(&unreachable.stderr);
    assert_eq!(unreachable.status.code(), Some(3), "{stderr}");
    assert!(stderr.contains("cannot audit the store"), "{stderr}");
}

/// The lines `reserva serve` writes to stderr up to the one that says it listens.
fn serve_until_listening(scratch: &Scratch, environment: &[(&str, &str)]) -> Vec<String> {
    use std::io::{BufRead as _, BufReader};
    let mut child = scratch
        .reserva(&["serve"])
        .envs(environment.iter().copied())
        .env("RESERVA_SERVER__PORT", "0")
        .env("RESERVA_SERVER__WORKERS", "1")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("reserva starts");
    let stderr = child.stderr.take().expect("stderr piped");
    let mut lines = Vec::new();
    for line in BufReader::new(stderr).lines().map_while(Result::ok) {
        let listening = line.contains("listening");
        lines.push(line);
        if listening {
            break;
        }
    }
    let _ = child.kill();
    let _ = child.wait();
    assert!(
        lines.last().is_some_and(|line| line.contains("listening")),
        "serve never listened: {lines:#?}"
    );
    lines
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn serve_warns_while_a_load_has_left_catalog_indexes_aside() {
    use reserva_application::ports::catalog::CatalogSeeder as _;
    const WARNING: &str = "catalog indexes set aside by a bulk load are not built";
    let database = reserva_adapter_postgres::test_support::TemporaryDatabase::create().await;
    let url = database.url.clone();
    let store = database.into_store().await;
    let scratch = Scratch::new("serve-deferred");
    let environment = [("DATABASE_URL", url.as_str())];
    let lines = serve_until_listening(&scratch, &environment);
    assert!(
        !lines.iter().any(|line| line.contains(WARNING)),
        "{lines:#?}"
    );
    // a load killed between setting the indexes aside and building them
    assert_eq!(store.defer_item_indexes().await, Ok(6));
    let lines = serve_until_listening(&scratch, &environment);
    let warning = lines
        .iter()
        .find(|line| line.contains(WARNING))
        .unwrap_or_else(|| panic!("no warning: {lines:#?}"));
    assert!(warning.contains("catalog_tests_created_idx"), "{warning}");
    assert!(
        warning.contains("reserva seed catalog --tests 0 --courses 0 --users 0"),
        "{warning}"
    );
    assert_eq!(store.build_item_indexes().await, Ok(6));
    let lines = serve_until_listening(&scratch, &environment);
    assert!(
        !lines.iter().any(|line| line.contains(WARNING)),
        "{lines:#?}"
    );
}
