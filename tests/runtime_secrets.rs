//! Integration test of the runtime-secrets boot step, `templates/runtime-secrets.py`: the
//! real program, run with the system python3 exactly as cloud-init runs it on a VM
//! (`python3 runtime-secrets.py CONFIG.json`), against the loopback Vault fixture
//! `tests/fixtures/vault/server.py` over verified TLS, with a CA and server certificate
//! made by the openssl CLI for each test.
//!
//! Each test is one scenario: its own fixture server (seeded with tokens, wrapping
//! tokens and secrets), its own temp "VM" folder (config, token file, dests, state
//! file), and assertions on the exit status, the files, and the fixture's request log.
//! Every run also checks that no token and no secret value appears in the program's
//! stdout or stderr. The test fails (it does not skip) when python3 or openssl is
//! missing.

use std::fs;
use std::io::{BufRead, BufReader};
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Output, Stdio};
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use tempfile::TempDir;

/// Every token and secret value the seeds use: none may ever be printed.
const WRAP_TOKEN: &str = "hvs.CAESIwrapping-token-7f3a9c";
const CLIENT_TOKEN: &str = "hvs.CAESIclient-token-51be02";
const LOCKER_TOKEN: &str = "hvs.CAESIlocker-token-d4e8aa";
const DB_PASSWORD: &str = "db-pa55word-c0rrect-horse";
const API_KEY: &str = "api-key-9Zq8Yx7Wv6";
const DB_USER: &str = "webapp-db-user-name";
const SENSITIVE: &[&str] = &[
    WRAP_TOKEN,
    CLIENT_TOKEN,
    LOCKER_TOKEN,
    DB_PASSWORD,
    API_KEY,
    DB_USER,
];

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// A tool the test needs: the Debian path first, then PATH. Missing is a failure.
fn tool(name: &str) -> PathBuf {
    let debian = Path::new("/usr/bin").join(name);
    if debian.is_file() {
        return debian;
    }
    std::env::var_os("PATH")
        .and_then(|path| {
            std::env::split_paths(&path)
                .map(|dir| dir.join(name))
                .find(|p| p.is_file())
        })
        .unwrap_or_else(|| {
            panic!(
                "tests/runtime_secrets.rs needs `{name}` (the runtime-secrets step runs under the \
                 system python3, and the test makes its TLS certificates with the openssl CLI): \
                 install it, e.g. `apt-get install python3 openssl`"
            )
        })
}

fn run_checked(cmd: &mut Command, what: &str) -> Output {
    let out = cmd.output().unwrap_or_else(|e| panic!("{what}: cannot run: {e}"));
    assert!(
        out.status.success(),
        "{what} failed: {}\n{}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

/// The current user's name and uid (the dests' owner in these tests).
fn current_user() -> (String, u32) {
    let name = run_checked(Command::new("id").arg("-un"), "id -un");
    let uid = run_checked(Command::new("id").arg("-u"), "id -u");
    let uid = String::from_utf8_lossy(&uid.stdout)
        .trim()
        .parse()
        .expect("id -u prints a number");
    (String::from_utf8_lossy(&name.stdout).trim().to_string(), uid)
}

/// A test CA, a server certificate it signed for 127.0.0.1, and an unrelated CA.
struct Pki {
    ca: PathBuf,
    other_ca: PathBuf,
    cert: PathBuf,
    key: PathBuf,
}

fn make_pki(dir: &Path) -> Pki {
    let openssl = tool("openssl");
    let ec = [
        "-newkey",
        "ec",
        "-pkeyopt",
        "ec_paramgen_curve:prime256v1",
        "-nodes",
    ];
    for name in ["ca", "other-ca"] {
        run_checked(
            Command::new(&openssl)
                .current_dir(dir)
                .args(["req", "-x509"])
                .args(ec)
                .args(["-keyout", &format!("{name}.key"), "-out", &format!("{name}.pem")])
                .args(["-days", "2", "-subj", &format!("/CN=ctxgen test {name}")])
                .args(["-addext", "basicConstraints=critical,CA:TRUE"])
                .args(["-addext", "keyUsage=critical,keyCertSign,cRLSign"]),
            "openssl req (CA)",
        );
    }
    run_checked(
        Command::new(&openssl)
            .current_dir(dir)
            .args(["req", "-new"])
            .args(ec)
            .args([
                "-keyout",
                "server.key",
                "-out",
                "server.csr",
                "-subj",
                "/CN=127.0.0.1",
            ]),
        "openssl req (server)",
    );
    fs::write(
        dir.join("server.ext"),
        "subjectAltName=IP:127.0.0.1,DNS:localhost\nbasicConstraints=critical,CA:FALSE\n\
         keyUsage=critical,digitalSignature\nextendedKeyUsage=serverAuth\n\
         subjectKeyIdentifier=hash\nauthorityKeyIdentifier=keyid:always\n",
    )
    .unwrap();
    run_checked(
        Command::new(&openssl)
            .current_dir(dir)
            .args([
                "x509",
                "-req",
                "-in",
                "server.csr",
                "-CA",
                "ca.pem",
                "-CAkey",
                "ca.key",
            ])
            .args([
                "-set_serial",
                "2",
                "-days",
                "2",
                "-extfile",
                "server.ext",
                "-out",
                "server.pem",
            ]),
        "openssl x509 (sign)",
    );
    Pki {
        ca: dir.join("ca.pem"),
        other_ca: dir.join("other-ca.pem"),
        cert: dir.join("server.pem"),
        key: dir.join("server.key"),
    }
}

/// One scenario's world: a temp folder with the PKI, the fixture's files and the VMs.
struct World {
    dir: TempDir,
    pki: Pki,
    python: PathBuf,
    user: String,
    uid: u32,
}

impl World {
    fn new() -> World {
        let python = tool("python3");
        let dir = tempfile::Builder::new()
            .prefix("ctxgen-runtime-secrets")
            .tempdir()
            .unwrap();
        let pki_dir = dir.path().join("pki");
        fs::create_dir(&pki_dir).unwrap();
        let pki = make_pki(&pki_dir);
        let (user, uid) = current_user();
        World {
            dir,
            pki,
            python,
            user,
            uid,
        }
    }

    /// Start the fixture with a seed and fault options.
    fn vault(&self, seed: &Value, options: &[&str]) -> Vault {
        let seed_path = self.dir.path().join("seed.json");
        fs::write(&seed_path, serde_json::to_vec_pretty(seed).unwrap()).unwrap();
        let log = self.dir.path().join("vault-log.jsonl");
        let mut child = Command::new(&self.python)
            .arg(root().join("tests/fixtures/vault/server.py"))
            .arg("--seed")
            .arg(&seed_path)
            .arg("--cert")
            .arg(&self.pki.cert)
            .arg("--key")
            .arg(&self.pki.key)
            .arg("--log")
            .arg(&log)
            .arg("--exit-on-stdin-eof")
            .args(options)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("start the Vault fixture");
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        let port = line.trim().parse().unwrap_or_else(|_| {
            let _ = child.kill();
            panic!("the Vault fixture did not print its port (got {line:?})")
        });
        let stdin = child.stdin.take();
        Vault {
            child,
            _stdin: stdin,
            port,
            log,
        }
    }

    /// A VM folder: token file (0600), config pointing at `vault`, dests under etc/.
    /// `items` use dest paths relative to the VM's etc/; `patch` overrides config keys.
    fn vm(&self, name: &str, port: u16, token: &str, items: Value, patch: Value) -> Vm {
        let dir = self.dir.path().join(name);
        fs::create_dir_all(dir.join("etc")).unwrap();
        let token_file = dir.join("vault-token");
        fs::write(&token_file, format!("{token}\n")).unwrap();
        fs::set_permissions(&token_file, fs::Permissions::from_mode(0o600)).unwrap();
        let mut dests = Vec::new();
        let items: Vec<Value> = items
            .as_array()
            .unwrap()
            .iter()
            .map(|item| {
                let mut item = item.clone();
                let dest = dir.join("etc").join(item["dest"].as_str().unwrap());
                item["dest"] = json!(dest);
                item.as_object_mut()
                    .unwrap()
                    .entry("owner")
                    .or_insert(json!(self.user));
                dests.push(dest);
                item
            })
            .collect();
        let mut config = json!({
            "address": format!("https://127.0.0.1:{port}"),
            "ca_file": self.pki.ca,
            "token_file": token_file,
            "token_kind": "wrapped",
            "expected_creation_path": "auth/token/create",
            "items": items,
            "state_file": dir.join("var/lib/ctxgen/runtime-secrets.done"),
            "deadline_seconds": 10,
        });
        for (key, value) in patch.as_object().unwrap() {
            config[key] = value.clone();
        }
        let config_path = dir.join("runtime-secrets.json");
        fs::write(&config_path, serde_json::to_vec_pretty(&config).unwrap()).unwrap();
        fs::set_permissions(&config_path, fs::Permissions::from_mode(0o600)).unwrap();
        Vm {
            etc: dir.join("etc"),
            state_file: dir.join("var/lib/ctxgen/runtime-secrets.done"),
            token_file,
            config: config_path,
            dests,
            python: self.python.clone(),
        }
    }
}

/// The running fixture; killed when dropped.
struct Vault {
    child: Child,
    _stdin: Option<ChildStdin>,
    port: u16,
    log: PathBuf,
}

impl Vault {
    /// The requests the fixture received, as "METHOD path status" (status "dropped" when
    /// it closed the connection without answering); TLS failures as "tls_error".
    fn requests(&self) -> Vec<String> {
        let text = fs::read_to_string(&self.log).unwrap_or_default();
        text.lines()
            .map(|line| {
                let entry: Value = serde_json::from_str(line).unwrap();
                if entry["event"] == "tls_error" {
                    return "tls_error".to_string();
                }
                let status = match &entry["status"] {
                    Value::Null => "dropped".to_string(),
                    status => status.to_string(),
                };
                let path = entry["path"].as_str().unwrap().trim_start_matches("/v1/");
                format!("{} {path} {status}", entry["method"].as_str().unwrap())
            })
            .collect()
    }

    fn http_requests(&self) -> Vec<String> {
        self.requests().into_iter().filter(|r| r != "tls_error").collect()
    }
}

impl Drop for Vault {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

struct Vm {
    etc: PathBuf,
    state_file: PathBuf,
    token_file: PathBuf,
    config: PathBuf,
    dests: Vec<PathBuf>,
    python: PathBuf,
}

struct Run {
    code: Option<i32>,
    stdout: String,
    stderr: String,
    elapsed: Duration,
}

impl Run {
    fn assert_ok(&self) {
        assert_eq!(
            self.code,
            Some(0),
            "expected success\nstdout:\n{}\nstderr:\n{}",
            self.stdout,
            self.stderr
        );
    }

    /// Failed with `code`, saying so on stderr with the prefix and `needle`.
    fn assert_failed(&self, code: i32, needle: &str) {
        assert_eq!(
            self.code,
            Some(code),
            "expected exit {code}\nstdout:\n{}\nstderr:\n{}",
            self.stdout,
            self.stderr
        );
        assert!(
            self.stderr.contains("ctxgen runtime-secrets: FAILED:") && self.stderr.contains(needle),
            "stderr should say FAILED and {needle:?}:\n{}",
            self.stderr
        );
    }
}

impl Vm {
    /// Run the step as cloud-init does: root's python3, the config path as the only
    /// argument, a bare environment. Checks that nothing sensitive was printed.
    fn run(&self) -> Run {
        let start = Instant::now();
        let out = Command::new(&self.python)
            .arg(root().join("templates/runtime-secrets.py"))
            .arg(&self.config)
            .env_clear()
            .env("PATH", "/usr/sbin:/usr/bin:/sbin:/bin")
            .env("LANG", "C.UTF-8")
            .stdin(Stdio::null())
            .output()
            .expect("run runtime-secrets.py");
        let run = Run {
            code: out.status.code(),
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
            elapsed: start.elapsed(),
        };
        for value in SENSITIVE {
            assert!(
                !run.stdout.contains(value) && !run.stderr.contains(value),
                "a token or secret value was printed\nstdout:\n{}\nstderr:\n{}",
                run.stdout,
                run.stderr
            );
        }
        run
    }

    /// Every file under the VM's etc/ (dests and any temp file).
    fn written(&self) -> Vec<PathBuf> {
        fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
            for entry in fs::read_dir(dir).unwrap() {
                let path = entry.unwrap().path();
                if path.is_dir() {
                    walk(&path, out)
                } else {
                    out.push(path)
                }
            }
        }
        let mut files = Vec::new();
        walk(&self.etc, &mut files);
        files
    }

    fn assert_nothing_written(&self) {
        assert_eq!(
            self.written(),
            Vec::<PathBuf>::new(),
            "no file may be written on failure"
        );
        assert!(!self.state_file.exists(), "no state file on failure");
    }

    fn assert_file(&self, index: usize, content: &str, mode: u32, uid: u32) {
        let dest = &self.dests[index];
        assert_eq!(
            fs::read_to_string(dest).unwrap(),
            content,
            "content of {}",
            dest.display()
        );
        let meta = fs::metadata(dest).unwrap();
        assert_eq!(meta.mode() & 0o7777, mode, "mode of {}", dest.display());
        assert_eq!(meta.uid(), uid, "owner of {}", dest.display());
    }
}

/// A seed with a wrapping token (made at `creation_path`) for a client token that may
/// read secret/data/webapp/, and KV v2 and v1 secrets.
fn wrapped_seed(creation_path: &str, wrap_ttl: u32) -> Value {
    json!({
        "tokens": { CLIENT_TOKEN: { "ttl": 3600, "policies": ["webapp"],
                                    "read": ["secret/data/webapp/", "legacy/webapp/"] } },
        "wrapping": { WRAP_TOKEN: { "creation_path": creation_path, "ttl": wrap_ttl,
                                    "client_token": CLIENT_TOKEN } },
        "kv": {
            "secret": { "version": 2, "data": { "webapp/db": { "password": DB_PASSWORD, "user": DB_USER } } },
            "legacy": { "version": 1, "data": { "webapp/api": { "key": API_KEY } } },
        },
    })
}

fn db_item() -> Value {
    json!([{ "key": "secret/data/webapp/db", "field": "password", "kv": 2,
             "dest": "webapp/db_password", "group": null, "mode": "0400" }])
}

const HAPPY_PATH: [&str; 4] = [
    "POST sys/wrapping/lookup 200",
    "POST sys/wrapping/unwrap 200",
    "GET secret/data/webapp/db 200",
    "POST auth/token/revoke-self 204",
];

#[test]
fn wrapped_token_success_writes_files_with_mode_and_owner() {
    let world = World::new();
    let vault = world.vault(&wrapped_seed("auth/token/create", 300), &[]);
    let items = json!([
        { "key": "secret/data/webapp/db", "field": "password", "kv": 2, "dest": "webapp/db_password",
          "group": null, "mode": "0400" },
        { "key": "secret/data/webapp/db", "field": "user", "dest": "webapp/deep/new/db_user", "mode": "0640" },
        { "key": "legacy/webapp/api", "field": "key", "kv": 1, "dest": "api/key" },
    ]);
    let vm = world.vm("vm1", vault.port, WRAP_TOKEN, items, json!({}));
    let run = vm.run();
    run.assert_ok();
    vm.assert_file(0, DB_PASSWORD, 0o400, world.uid);
    vm.assert_file(1, DB_USER, 0o640, world.uid);
    vm.assert_file(2, API_KEY, 0o600, world.uid); // the default mode for a secret
    // Missing parents are made 0755.
    let deep = vm.etc.join("webapp/deep");
    assert_eq!(fs::metadata(&deep).unwrap().mode() & 0o7777, 0o755);
    assert_eq!(fs::metadata(deep.join("new")).unwrap().mode() & 0o7777, 0o755);
    assert_eq!(
        vm.written().len(),
        3,
        "no temp file is left behind: {:?}",
        vm.written()
    );
    assert!(!vm.token_file.exists(), "the token file is deleted on success");
    let state: Value = serde_json::from_str(&fs::read_to_string(&vm.state_file).unwrap()).unwrap();
    assert!(
        state["completed_at"].as_str().unwrap().ends_with('Z'),
        "state: {state}"
    );
    assert_eq!(fs::metadata(&vm.state_file).unwrap().mode() & 0o777, 0o600);
    assert!(run.stdout.contains("done: 3 item(s)"), "{}", run.stdout);
    // One read per secret path, and the client token is revoked at the end.
    assert_eq!(
        vault.requests(),
        [
            "POST sys/wrapping/lookup 200",
            "POST sys/wrapping/unwrap 200",
            "GET secret/data/webapp/db 200",
            "GET legacy/webapp/api 200",
            "POST auth/token/revoke-self 204",
        ]
    );
}

#[test]
fn locker_token_reads_its_cubbyhole() {
    let world = World::new();
    // Two uses: one read per distinct cubbyhole path, so three items fit.
    let seed = json!({
        "tokens": { LOCKER_TOKEN: { "ttl": 3600, "num_uses": 2, "cubbyhole": {
            "webapp/db": { "password": DB_PASSWORD, "user": DB_USER },
            "webapp/api": { "key": API_KEY },
        } } },
    });
    let vault = world.vault(&seed, &[]);
    let items = json!([
        { "key": "webapp/db", "field": "password", "dest": "webapp/db_password", "mode": "0400" },
        { "key": "webapp/db", "field": "user", "dest": "webapp/db_user", "mode": "0400" },
        { "key": "cubbyhole/webapp/api", "field": "key", "dest": "webapp/api_key", "mode": "0440" },
    ]);
    let patch = json!({ "token_kind": "locker", "expected_creation_path": null });
    let vm = world.vm("vm1", vault.port, LOCKER_TOKEN, items, patch);
    vm.run().assert_ok();
    vm.assert_file(0, DB_PASSWORD, 0o400, world.uid);
    vm.assert_file(1, DB_USER, 0o400, world.uid);
    vm.assert_file(2, API_KEY, 0o440, world.uid);
    assert!(!vm.token_file.exists());
    assert!(vm.state_file.exists());
    assert_eq!(
        vault.requests(),
        ["GET cubbyhole/webapp/db 200", "GET cubbyhole/webapp/api 200"]
    );
}

#[test]
fn locker_token_used_up_fails_and_writes_nothing() {
    let world = World::new();
    let seed = json!({
        "tokens": { LOCKER_TOKEN: { "ttl": 3600, "num_uses": 1, "cubbyhole": {
            "webapp/db": { "password": DB_PASSWORD }, "webapp/api": { "key": API_KEY },
        } } },
    });
    let vault = world.vault(&seed, &[]);
    let items = json!([
        { "key": "webapp/db", "field": "password", "dest": "webapp/db_password" },
        { "key": "webapp/api", "field": "key", "dest": "webapp/api_key" },
    ]);
    let patch = json!({ "token_kind": "locker", "expected_creation_path": null });
    let vm = world.vm("vm1", vault.port, LOCKER_TOKEN, items, patch);
    let run = vm.run();
    run.assert_failed(1, "item webapp/api#key ->");
    assert!(run.stderr.contains("permission denied"), "{}", run.stderr);
    vm.assert_nothing_written();
    assert!(
        vm.token_file.exists(),
        "a locker token is kept on failure (not single-use)"
    );
    assert_eq!(
        vault.requests(),
        ["GET cubbyhole/webapp/db 200", "GET cubbyhole/webapp/api 403"]
    );
}

#[test]
fn replayed_wrapping_token_fails_closed_on_the_second_vm() {
    let world = World::new();
    let vault = world.vault(&wrapped_seed("auth/token/create", 300), &[]);
    let first = world.vm("vm1", vault.port, WRAP_TOKEN, db_item(), json!({}));
    first.run().assert_ok();
    let second = world.vm("vm2", vault.port, WRAP_TOKEN, db_item(), json!({}));
    let run = second.run();
    run.assert_failed(1, "already unwrapped");
    assert!(run.stderr.contains("intercepted"), "{}", run.stderr);
    second.assert_nothing_written();
    let mut expected = HAPPY_PATH.to_vec();
    expected.push("POST sys/wrapping/lookup 400");
    assert_eq!(vault.requests(), expected, "the second VM never tries to unwrap");
}

#[test]
fn wrong_creation_path_is_refused_before_unwrapping() {
    let world = World::new();
    // What an attacker who unwrapped the real token and re-wrapped its content would send.
    let vault = world.vault(&wrapped_seed("sys/wrapping/wrap", 300), &[]);
    let vm = world.vm("vm1", vault.port, WRAP_TOKEN, db_item(), json!({}));
    let run = vm.run();
    run.assert_failed(1, "not at the expected 'auth/token/create'");
    vm.assert_nothing_written();
    assert_eq!(
        vault.requests(),
        ["POST sys/wrapping/lookup 200"],
        "unwrap is never called"
    );
    assert!(
        vm.token_file.exists(),
        "an unused token is kept for investigation"
    );
}

#[test]
fn expired_wrapping_token_fails_closed() {
    let world = World::new();
    let vault = world.vault(&wrapped_seed("auth/token/create", 1), &[]);
    let vm = world.vm("vm1", vault.port, WRAP_TOKEN, db_item(), json!({}));
    std::thread::sleep(Duration::from_millis(1200));
    vm.run().assert_failed(1, "invalid, expired or already unwrapped");
    vm.assert_nothing_written();
    assert_eq!(vault.requests(), ["POST sys/wrapping/lookup 400"]);
}

#[test]
fn wrong_ca_fails_tls_and_writes_nothing() {
    let world = World::new();
    let vault = world.vault(&wrapped_seed("auth/token/create", 300), &[]);
    let patch = json!({ "ca_file": world.pki.other_ca });
    let vm = world.vm("vm1", vault.port, WRAP_TOKEN, db_item(), patch);
    let run = vm.run();
    run.assert_failed(1, "certificate verification failed");
    assert!(
        run.elapsed < Duration::from_secs(3),
        "a bad certificate is not retried: {:?}",
        run.elapsed
    );
    vm.assert_nothing_written();
    assert_eq!(
        vault.http_requests(),
        Vec::<String>::new(),
        "no HTTP request got through"
    );
    assert!(vm.token_file.exists(), "the token never left the VM");
}

#[test]
fn server_answering_503_then_up_is_retried_within_the_deadline() {
    let world = World::new();
    let vault = world.vault(&wrapped_seed("auth/token/create", 300), &["--fail-first", "2"]);
    let vm = world.vm("vm1", vault.port, WRAP_TOKEN, db_item(), json!({}));
    let run = vm.run();
    run.assert_ok();
    assert!(run.stdout.contains("retrying"), "{}", run.stdout);
    vm.assert_file(0, DB_PASSWORD, 0o400, world.uid);
    let mut expected = vec!["POST sys/wrapping/lookup 503", "POST sys/wrapping/lookup 503"];
    expected.extend(HAPPY_PATH);
    assert_eq!(vault.requests(), expected);
}

#[test]
fn server_starting_late_is_retried_within_the_deadline() {
    let world = World::new();
    // Connections are refused for a second, then the server listens.
    let vault = world.vault(&wrapped_seed("auth/token/create", 300), &["--listen-delay", "1"]);
    let vm = world.vm("vm1", vault.port, WRAP_TOKEN, db_item(), json!({}));
    let run = vm.run();
    run.assert_ok();
    assert!(run.stdout.contains("cannot connect"), "{}", run.stdout);
    vm.assert_file(0, DB_PASSWORD, 0o400, world.uid);
    assert_eq!(vault.requests(), HAPPY_PATH);
}

#[test]
fn server_down_past_the_deadline_fails() {
    let world = World::new();
    let vault = world.vault(&wrapped_seed("auth/token/create", 300), &["--fail-first", "1000"]);
    let vm = world.vm(
        "vm1",
        vault.port,
        WRAP_TOKEN,
        db_item(),
        json!({ "deadline_seconds": 2 }),
    );
    let run = vm.run();
    run.assert_failed(1, "within the 2s deadline");
    assert!(
        run.elapsed < Duration::from_secs(4),
        "the deadline bounds the run: {:?}",
        run.elapsed
    );
    vm.assert_nothing_written();
    assert!(vm.token_file.exists(), "the token was never used: it is kept");
    let requests = vault.requests();
    assert!(requests.len() >= 2, "{requests:?}");
    assert!(
        requests.iter().all(|r| r == "POST sys/wrapping/lookup 503"),
        "{requests:?}"
    );
}

#[test]
fn missing_field_fails_naming_the_item_and_writes_no_partial_files() {
    let world = World::new();
    let vault = world.vault(&wrapped_seed("auth/token/create", 300), &[]);
    let items = json!([
        { "key": "secret/data/webapp/db", "field": "password", "dest": "webapp/db_password" },
        { "key": "secret/data/webapp/db", "field": "pasword", "dest": "webapp/typo" },
    ]);
    let vm = world.vm("vm1", vault.port, WRAP_TOKEN, items, json!({}));
    let run = vm.run();
    run.assert_failed(1, "item secret/data/webapp/db#pasword ->");
    assert!(run.stderr.contains("field pasword is missing"), "{}", run.stderr);
    vm.assert_nothing_written();
    assert!(
        !vm.token_file.exists(),
        "the spent wrapping token is deleted on failure"
    );
    assert_eq!(vault.requests(), HAPPY_PATH, "the client token is still revoked");
}

#[test]
fn missing_secret_fails_naming_the_item() {
    let world = World::new();
    let vault = world.vault(&wrapped_seed("auth/token/create", 300), &[]);
    let items = json!([
        { "key": "secret/data/webapp/db", "field": "password", "dest": "webapp/db_password" },
        { "key": "secret/data/webapp/nope", "field": "x", "dest": "webapp/nope" },
    ]);
    let vm = world.vm("vm1", vault.port, WRAP_TOKEN, items, json!({}));
    vm.run().assert_failed(1, "item secret/data/webapp/nope#x ->");
    vm.assert_nothing_written();
    assert_eq!(
        vault.requests(),
        [
            "POST sys/wrapping/lookup 200",
            "POST sys/wrapping/unwrap 200",
            "GET secret/data/webapp/db 200",
            "GET secret/data/webapp/nope 404",
            "POST auth/token/revoke-self 204",
        ]
    );
}

#[test]
fn reboot_with_state_file_makes_no_request() {
    let world = World::new();
    let vault = world.vault(&wrapped_seed("auth/token/create", 300), &[]);
    let vm = world.vm("vm1", vault.port, WRAP_TOKEN, db_item(), json!({}));
    vm.run().assert_ok();
    let before = vault.requests();
    // A token file left over (say, from a crash after the state file) is wiped too.
    fs::write(&vm.token_file, format!("{WRAP_TOKEN}\n")).unwrap();
    fs::set_permissions(&vm.token_file, fs::Permissions::from_mode(0o600)).unwrap();
    let run = vm.run();
    run.assert_ok();
    assert!(run.stdout.contains("already done"), "{}", run.stdout);
    assert!(!vm.token_file.exists());
    vm.assert_file(0, DB_PASSWORD, 0o400, world.uid);
    assert_eq!(vault.requests(), before, "no request at all on a later boot");
}

#[test]
fn world_readable_token_file_is_refused() {
    let world = World::new();
    let vault = world.vault(&wrapped_seed("auth/token/create", 300), &[]);
    let vm = world.vm("vm1", vault.port, WRAP_TOKEN, db_item(), json!({}));
    fs::set_permissions(&vm.token_file, fs::Permissions::from_mode(0o644)).unwrap();
    vm.run()
        .assert_failed(1, "accessible to group or others (mode 0644)");
    vm.assert_nothing_written();
    assert_eq!(vault.requests(), Vec::<String>::new());
}

#[test]
fn http_address_is_refused() {
    let world = World::new();
    let vault = world.vault(&wrapped_seed("auth/token/create", 300), &[]);
    let patch = json!({ "address": format!("http://127.0.0.1:{}", vault.port) });
    let vm = world.vm("vm1", vault.port, WRAP_TOKEN, db_item(), patch);
    vm.run().assert_failed(2, "is not https://");
    vm.assert_nothing_written();
    assert_eq!(vault.requests(), Vec::<String>::new());
    assert!(vm.token_file.exists());
}

#[test]
fn unwrap_without_answer_is_retried_only_when_the_token_is_provably_unused() {
    let world = World::new();
    // The connection drops before Vault used the token: a lookup shows it is still
    // valid, so a second unwrap is safe.
    let vault = world.vault(
        &wrapped_seed("auth/token/create", 300),
        &["--drop-unwrap", "before"],
    );
    let vm = world.vm("vm1", vault.port, WRAP_TOKEN, db_item(), json!({}));
    vm.run().assert_ok();
    vm.assert_file(0, DB_PASSWORD, 0o400, world.uid);
    assert_eq!(
        vault.requests(),
        [
            "POST sys/wrapping/lookup 200",
            "POST sys/wrapping/unwrap dropped",
            "POST sys/wrapping/lookup 200",
            "POST sys/wrapping/unwrap 200",
            "GET secret/data/webapp/db 200",
            "POST auth/token/revoke-self 204",
        ]
    );

    // The connection drops after Vault used the token: fail closed, no second unwrap.
    let world = World::new();
    let vault = world.vault(
        &wrapped_seed("auth/token/create", 300),
        &["--drop-unwrap", "after"],
    );
    let vm = world.vm("vm1", vault.port, WRAP_TOKEN, db_item(), json!({}));
    vm.run()
        .assert_failed(1, "no response, and the token is no longer valid");
    vm.assert_nothing_written();
    assert!(!vm.token_file.exists(), "a spent token is deleted");
    assert_eq!(
        vault.requests(),
        [
            "POST sys/wrapping/lookup 200",
            "POST sys/wrapping/unwrap dropped",
            "POST sys/wrapping/lookup 400",
        ]
    );
}

#[test]
fn bad_configs_are_refused_before_any_request() {
    let world = World::new();
    let vault = world.vault(&wrapped_seed("auth/token/create", 300), &[]);
    let cases = [
        (
            json!({ "expected_creation_path": null }),
            "needs expected_creation_path",
        ),
        (json!({ "token_kind": "approle" }), "token_kind must be"),
        (json!({ "extra": 1 }), "unknown key(s) extra"),
        (
            json!({ "items": [{ "key": "secret/webapp/db", "field": "password", "kv": 2, "dest": "/x" }] }),
            "a KV v2 key is the API path",
        ),
        (
            json!({ "items": [{ "key": "secret/data/webapp/db", "field": "p", "dest": "/x", "mode": "rw" }] }),
            "is not an octal string",
        ),
    ];
    for (i, (patch, message)) in cases.into_iter().enumerate() {
        let vm = world.vm(&format!("vm{i}"), vault.port, WRAP_TOKEN, db_item(), patch);
        vm.run().assert_failed(2, message);
        assert!(vm.token_file.exists());
    }
    let vm = world.vm("owner", vault.port, WRAP_TOKEN, db_item(), json!({}));
    let mut config: Value = serde_json::from_slice(&fs::read(&vm.config).unwrap()).unwrap();
    config["items"][0]["owner"] = json!("no-such-user-ctxgen");
    fs::write(&vm.config, serde_json::to_vec(&config).unwrap()).unwrap();
    vm.run()
        .assert_failed(1, "owner no-such-user-ctxgen does not exist");
    assert_eq!(vault.requests(), Vec::<String>::new());
}
