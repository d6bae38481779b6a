//! The harness's own world: a private PostgreSQL and Redis on free loopback ports, three
//! `reserva` instances sharing them, and the faults done to them.
//!
//! Everything is torn down by [`World::shutdown`], which [`Drop`] also calls, so a failed run, a
//! panic or Ctrl-C (the caller drops the world) leaves no server behind on the shared machine.

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// A free loopback port: bound once and released, so a server can take it.
pub(crate) fn free_port() -> Result<u16, String> {
    let listener = TcpListener::bind("127.0.0.1:0").map_err(|e| format!("free port: {e}"))?;
    listener
        .local_addr()
        .map(|a| a.port())
        .map_err(|e| format!("free port: {e}"))
}

/// The directory of the newest installed PostgreSQL's binaries.
fn postgres_bin() -> Result<PathBuf, String> {
    let mut found: Vec<PathBuf> = std::fs::read_dir("/usr/lib/postgresql")
        .map_err(|e| format!("/usr/lib/postgresql: {e}"))?
        .flatten()
        .map(|entry| entry.path().join("bin"))
        .filter(|bin| bin.join("pg_ctl").exists())
        .collect();
    found.sort();
    found
        .pop()
        .ok_or_else(|| "no PostgreSQL under /usr/lib/postgresql/*/bin".into())
}

/// Runs a command to its end; an error names it with its output.
fn run(command: &mut Command) -> Result<(), String> {
    let output = command.output().map_err(|e| format!("{command:?}: {e}"))?;
    if output.status.success() {
        Ok(())
    } else {
        Err(format!(
            "{command:?}: {}\n{}{}",
            output.status,
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        ))
    }
}

/// A PostgreSQL cluster in a temporary directory, run as the `postgres` user (initdb refuses
/// root) when the harness runs as root.
pub(crate) struct Postgres {
    bin: PathBuf,
    data: PathBuf,
    pub port: u16,
    as_root: bool,
    running: bool,
}

impl Postgres {
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

    fn pg_ctl(&self, action: &str, extra: &[&str]) -> Result<(), String> {
        let options = format!(
            "-p {} -k {} -c listen_addresses=127.0.0.1 -c max_connections=200 -c fsync=off",
            self.port,
            self.data.display()
        );
        let log = self.data.join("server.log");
        run(self
            .command("pg_ctl")
            .arg("-D")
            .arg(&self.data)
            .arg("-l")
            .arg(&log)
            .args(["-o", &options, "-w", "-t", "60"])
            .arg(action)
            .args(extra)
            .stdin(Stdio::null()))
    }

    /// initdb into `dir/pg` and start on a free port.
    pub(crate) fn start(dir: &Path) -> Result<Self, String> {
        let as_root = Command::new("id")
            .arg("-u")
            .output()
            .is_ok_and(|o| o.stdout.starts_with(b"0\n"));
        let data = dir.join("pg");
        std::fs::create_dir_all(&data).map_err(|e| format!("{}: {e}", data.display()))?;
        if as_root {
            run(Command::new("chown")
                .args(["-R", "postgres:postgres"])
                .arg(dir))?;
        }
        let mut postgres = Self {
            bin: postgres_bin()?,
            data,
            port: free_port()?,
            as_root,
            running: false,
        };
        run(postgres
            .command("initdb")
            .args(["-U", "postgres", "--auth=trust", "-E", "UTF8", "-D"])
            .arg(&postgres.data)
            .stdin(Stdio::null()))?;
        postgres.pg_ctl("start", &[])?;
        postgres.running = true;
        Ok(postgres)
    }

    /// `pg_ctl restart -m fast`: every connection is cut, the pools must reconnect.
    pub(crate) fn restart(&self) -> Result<(), String> {
        self.pg_ctl("restart", &["-m", "fast"])
    }

    pub(crate) fn admin_url(&self) -> String {
        format!("postgres://postgres@127.0.0.1:{}/postgres", self.port)
    }

    pub(crate) fn url(&self) -> String {
        format!("postgres://postgres@127.0.0.1:{}/reserva", self.port)
    }

    fn stop(&mut self) {
        if self.running {
            self.running = false;
            if let Err(error) = self.pg_ctl("stop", &["-m", "immediate"]) {
                eprintln!("fault harness: stopping PostgreSQL: {error}");
            }
        }
    }
}

/// A redis-server child without persistence: stopping it loses every key, as a crashed cache
/// node would.
pub(crate) struct Redis {
    pub port: u16,
    child: Option<Child>,
    log: PathBuf,
}

impl Redis {
    pub(crate) fn start(dir: &Path) -> Result<Self, String> {
        let mut redis = Self {
            port: free_port()?,
            child: None,
            log: dir.join("redis.log"),
        };
        redis.up()?;
        Ok(redis)
    }

    pub(crate) fn up(&mut self) -> Result<(), String> {
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&self.log)
            .map_err(|e| format!("{}: {e}", self.log.display()))?;
        let child = Command::new("redis-server")
            .args(["--port", &self.port.to_string()])
            .args(["--bind", "127.0.0.1", "--save", "", "--appendonly", "no"])
            .stdin(Stdio::null())
            .stdout(log)
            .stderr(Stdio::null())
            .spawn()
            .map_err(|e| format!("redis-server: {e}"))?;
        self.child = Some(child);
        wait_for_port(self.port, Duration::from_secs(10))
    }

    /// SIGTERM and wait: the server is gone, with its data.
    pub(crate) fn down(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = Command::new("kill")
                .args(["-TERM", &child.id().to_string()])
                .status();
            let _ = child.wait();
        }
    }

    pub(crate) fn url(&self) -> String {
        format!("redis://127.0.0.1:{}", self.port)
    }
}

impl Drop for Postgres {
    fn drop(&mut self) {
        self.stop();
    }
}

impl Drop for Redis {
    fn drop(&mut self) {
        self.down();
    }
}

impl Drop for Instance {
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

/// Waits until something accepts connections on `port`.
fn wait_for_port(port: u16, limit: Duration) -> Result<(), String> {
    let deadline = Instant::now() + limit;
    while Instant::now() < deadline {
        if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
            return Ok(());
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    Err(format!("nothing listens on port {port} after {limit:?}"))
}

/// One `reserva serve` process.
pub(crate) struct Instance {
    pub port: u16,
    child: Option<Child>,
    log: PathBuf,
}

/// The whole world of one run.
pub(crate) struct World {
    pub dir: PathBuf,
    pub postgres: Postgres,
    pub redis: Redis,
    pub instances: Vec<Instance>,
    binary: PathBuf,
    env: Vec<(String, String)>,
}

/// The JWT secret of the harness's servers (a private test world: no secret to keep).
pub(crate) const JWT_SECRET: &str = "fault-harness-secret-fault-harness-secret-01";
/// The harness administrator's password.
pub(crate) const ADMIN_PASSWORD: &str = "fault-harness-admin-1";
pub(crate) const ADMIN_EMAIL: &str = "faults-admin@example.com";

impl World {
    /// Starts PostgreSQL and Redis, migrates, creates the administrator and starts `instances`.
    pub(crate) fn start(binary: &Path, dir: &Path, instances: usize) -> Result<Self, String> {
        std::fs::create_dir_all(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
        let binary = binary
            .canonicalize()
            .map_err(|e| format!("{}: {e}", binary.display()))?;
        let postgres = Postgres::start(dir)?;
        let redis = Redis::start(dir)?;
        let mut world = Self {
            dir: dir.to_owned(),
            postgres,
            redis,
            instances: Vec::new(),
            binary,
            env: Vec::new(),
        };
        run(Command::new("psql")
            .arg(world.postgres.admin_url())
            .args(["-qc", "CREATE DATABASE reserva"]))?;
        world.env = vec![
            ("DATABASE_URL".into(), world.postgres.url()),
            ("REDIS_URL".into(), world.redis.url()),
            ("RESERVA_AUTH__JWT_SECRET".into(), JWT_SECRET.into()),
            ("RESERVA_LOG__FILTER".into(), "warn".into()),
            ("RESERVA_DATABASE__MIGRATE_ON_START".into(), "false".into()),
            ("RESERVA_DATABASE__MAX_CONNECTIONS".into(), "8".into()),
            // Every user of the harness logs in from 127.0.0.1.
            ("RESERVA_AUTH__LOGIN_ADDRESS_LIMIT".into(), "100000".into()),
            // A short line: few active at once, so users wait and admission order shows.
            ("RESERVA_TICKETS__QUEUE_MAX_ACTIVE".into(), "4".into()),
            ("RESERVA_TICKETS__QUEUE_ADMISSION_MARGIN".into(), "2".into()),
            ("RESERVA_TICKETS__SWEEP_INTERVAL_SECONDS".into(), "2".into()),
        ];
        run(world.cli().arg("migrate"))?;
        run(world
            .cli()
            .args(["admin", "create", "--email", ADMIN_EMAIL, "--username"])
            .arg("faultsadmin")
            .env("RESERVA_ADMIN_PASSWORD", ADMIN_PASSWORD))?;
        for index in 0..instances {
            let instance = Instance {
                port: free_port()?,
                child: None,
                log: dir.join(format!("reserva-{index}.log")),
            };
            world.instances.push(instance);
            world.launch(index)?;
        }
        Ok(world)
    }

    /// The `reserva` command with the world's configuration.
    pub(crate) fn cli(&self) -> Command {
        let mut command = Command::new(&self.binary);
        command.envs(self.env.iter().map(|(k, v)| (k.as_str(), v.as_str())));
        command.env_remove("RESERVA_CONFIG").current_dir(&self.dir);
        command.stdin(Stdio::null());
        command
    }

    /// Starts instance `index` and waits for its `/healthz`.
    pub(crate) fn launch(&mut self, index: usize) -> Result<(), String> {
        let Some(instance) = self.instances.get(index) else {
            return Err(format!("no instance {index}"));
        };
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&instance.log)
            .map_err(|e| format!("{}: {e}", instance.log.display()))?;
        let errors = log.try_clone().map_err(|e| e.to_string())?;
        let port = instance.port;
        let child = self
            .cli()
            .env("RESERVA_SERVER__PORT", port.to_string())
            .stdout(log)
            .stderr(errors)
            .spawn()
            .map_err(|e| format!("{}: {e}", self.binary.display()))?;
        if let Some(instance) = self.instances.get_mut(index) {
            instance.child = Some(child);
        }
        wait_for_port(port, Duration::from_secs(60))
    }

    /// SIGKILL: no shutdown, no draining, transactions cut wherever they are.
    pub(crate) fn kill(&mut self, index: usize) {
        if let Some(mut child) = self.instances.get_mut(index).and_then(|i| i.child.take()) {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    pub(crate) fn base_urls(&self) -> Vec<String> {
        self.instances
            .iter()
            .map(|i| format!("http://127.0.0.1:{}", i.port))
            .collect()
    }

    /// Stops everything; safe to call twice.
    pub(crate) fn shutdown(&mut self) {
        for index in 0..self.instances.len() {
            self.kill(index);
        }
        self.redis.down();
        self.postgres.stop();
    }
}

impl Drop for World {
    fn drop(&mut self) {
        self.shutdown();
    }
}
