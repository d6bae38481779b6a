//! The request deadline (`server.request_timeout_ms`) against a PostgreSQL that stops answering
//! altogether: a private cluster (initdb in a temporary directory, `pg_ctl` on a free port, as
//! the `postgres` user when the tests run as root) whose every process the test freezes with
//! SIGSTOP, as a paused VM or a frozen host would be. Neither its `statement_timeout` nor TCP
//! notices; only the deadline answers, within its bound, `503 outcome_unknown` for the write.
//! After SIGCONT the server answers again without a restart.

use crate::helpers::{TestApp, unique};
use serde_json::json;
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// A PostgreSQL cluster of this test alone, stopped and removed when dropped (also on a panic).
struct PrivatePostgres {
    dir: PathBuf,
    bin: PathBuf,
    port: u16,
    as_root: bool,
    /// The processes frozen by [`PrivatePostgres::freeze`], thawed on drop if still frozen.
    frozen: Vec<String>,
}

fn run(command: &mut Command) {
    let output = command
        .stdin(Stdio::null())
        .output()
        .unwrap_or_else(|error| panic!("{command:?}: {error}"));
    assert!(
        output.status.success(),
        "{command:?}: {}\n{}{}",
        output.status,
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
}

/// The newest PostgreSQL server binaries installed.
fn postgres_bin() -> PathBuf {
    let mut found: Vec<PathBuf> = std::fs::read_dir("/usr/lib/postgresql")
        .expect("PostgreSQL server binaries under /usr/lib/postgresql")
        .flatten()
        .map(|entry| entry.path().join("bin"))
        .filter(|bin| bin.join("pg_ctl").exists())
        .collect();
    found.sort();
    found.pop().expect("a PostgreSQL with pg_ctl")
}

impl PrivatePostgres {
    fn start() -> Self {
        let port = TcpListener::bind("127.0.0.1:0")
            .and_then(|listener| listener.local_addr())
            .expect("a free port")
            .port();
        let dir = std::env::temp_dir().join(format!("reserva-pg-{}", uuid::Uuid::new_v4()));
        std::fs::create_dir_all(dir.join("pg")).expect("a temporary directory");
        let as_root = Command::new("id")
            .arg("-u")
            .output()
            .is_ok_and(|output| output.stdout.starts_with(b"0\n"));
        if as_root {
            run(Command::new("chown")
                .args(["-R", "postgres:postgres"])
                .arg(&dir));
        }
        let postgres = Self {
            dir,
            bin: postgres_bin(),
            port,
            as_root,
            frozen: Vec::new(),
        };
        run(postgres
            .command("initdb")
            .args(["-U", "postgres", "--auth=trust", "-E", "UTF8", "-D"])
            .arg(postgres.data()));
        postgres.pg_ctl("start", &[]);
        postgres
    }

    fn data(&self) -> PathBuf {
        self.dir.join("pg")
    }

    fn command(&self, program: &str) -> Command {
        let path = self.bin.join(program);
        if self.as_root {
            let mut command = Command::new("runuser");
            command.args(["-u", "postgres", "--"]).arg(path);
            command
        } else {
            Command::new(path)
        }
    }

    fn pg_ctl(&self, action: &str, extra: &[&str]) {
        let options = format!(
            "-p {} -k {} -c listen_addresses=127.0.0.1 -c fsync=off",
            self.port,
            self.dir.display()
        );
        run(self
            .command("pg_ctl")
            .arg("-D")
            .arg(self.data())
            .arg("-l")
            .arg(self.dir.join("server.log"))
            .args(["-o", &options, "-w", "-t", "60"])
            .arg(action)
            .args(extra));
    }

    fn url(&self) -> String {
        format!("postgres://postgres@127.0.0.1:{}/postgres", self.port)
    }

    /// The postmaster and every process it started (backends, background workers).
    fn processes(&self) -> Vec<String> {
        let pid_file =
            std::fs::read_to_string(self.data().join("postmaster.pid")).expect("postmaster.pid");
        let postmaster = pid_file.lines().next().expect("a pid").trim().to_owned();
        let mut found = vec![postmaster.clone()];
        for entry in std::fs::read_dir("/proc").expect("/proc").flatten() {
            let Ok(stat) = std::fs::read_to_string(entry.path().join("stat")) else {
                continue;
            };
            // pid (comm) state ppid ...: the name may hold spaces, so split after its ')'.
            let parent = stat
                .rsplit_once(')')
                .and_then(|(_, rest)| rest.split_whitespace().nth(1));
            if parent == Some(postmaster.as_str()) {
                found.push(entry.file_name().to_string_lossy().into_owned());
            }
        }
        found
    }

    fn signal(pids: &[String], signal: &str) {
        run(Command::new("kill").arg(signal).args(pids));
    }

    /// SIGSTOP to every process of the cluster: connections stay open, nothing answers.
    fn freeze(&mut self) {
        self.frozen = self.processes();
        Self::signal(&self.frozen, "-STOP");
    }

    fn thaw(&mut self) {
        if !self.frozen.is_empty() {
            Self::signal(&std::mem::take(&mut self.frozen), "-CONT");
        }
    }
}

impl Drop for PrivatePostgres {
    fn drop(&mut self) {
        self.thaw();
        let _ = self
            .command("pg_ctl")
            .arg("-D")
            .arg(self.data())
            .args(["-m", "immediate", "-w", "stop"])
            .stdin(Stdio::null())
            .output();
        remove(&self.dir);
    }
}

fn remove(dir: &Path) {
    let _ = std::fs::remove_dir_all(dir);
}

/// The bounds of this test's server: short, so the test is too, and in the order the settings
/// require (the deadline above a connection wait plus a statement).
const ACQUIRE_MS: u64 = 500;
const STATEMENT_MS: u64 = 1_000;
const DEADLINE_MS: u64 = 2_000;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_write_to_a_frozen_postgres_answers_outcome_unknown_by_the_deadline() {
    let mut postgres = PrivatePostgres::start();
    let app = TestApp::spawn_on_database(&postgres.url(), |settings| {
        settings.database.acquire_timeout_ms = ACQUIRE_MS;
        settings.database.statement_timeout_ms = STATEMENT_MS;
        settings.server.request_timeout_ms = DEADLINE_MS;
    })
    .await;
    let (member, _, _) = app.member(&unique("pgf")).await;
    let charges = "/api/v1/wallet/charges";
    let charged = app
        .post(charges, &json!({"amount": 100}), Some(&member))
        .await;
    assert_eq!(charged.status, 201, "{:#}", charged.body);

    postgres.freeze();

    let started = Instant::now();
    let answer = app
        .post(charges, &json!({"amount": 7}), Some(&member))
        .await;
    let waited = started.elapsed();
    answer.assert_problem(503, "outcome_unknown");
    assert_eq!(answer.header("retry-after"), None, "{:?}", answer.headers);
    let deadline = Duration::from_millis(DEADLINE_MS);
    assert!(
        waited >= deadline - Duration::from_millis(100) && waited < deadline * 3 / 2,
        "answered after {waited:?}, the deadline is {deadline:?}"
    );
    let read = app.get("/api/v1/wallet", Some(&member)).await;
    assert_eq!(read.status, 503, "{:#}", read.body);
    assert!(read.header("retry-after").is_some(), "{:?}", read.headers);

    postgres.thaw();

    let started = Instant::now();
    let balance = loop {
        let wallet = app.get("/api/v1/wallet", Some(&member)).await;
        if wallet.status == 200 {
            break wallet.body["balance"].clone();
        }
        assert!(
            started.elapsed() < Duration::from_secs(15),
            "the server never recovered: {:#}",
            wallet.body
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    // The frozen write was sent: it committed once or not at all, never half or twice.
    assert!(balance == 100 || balance == 107, "balance {balance}");
    let again = app
        .post(charges, &json!({"amount": 1}), Some(&member))
        .await;
    assert_eq!(again.status, 201, "{:#}", again.body);
    drop(app);
}
