//! The runner end to end, on a copy of the tiny fixture workspace in
//! `tests/fixtures/tiny`: through mdBook's preprocessor protocol (JSON on
//! stdin and stdout), and through its own `build` and `serve`, which run
//! mdBook's library.

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use mdbook_preprocessor::PreprocessorContext;
use mdbook_preprocessor::book::{Book, BookItem, Chapter};
use mdbook_preprocessor::config::Config;

const RUNNER: &str = env!("CARGO_BIN_EXE_mdbook-runner");

/// A private copy of the fixture workspace, so each test has its own
/// target directory and cache.
struct Fixture {
    dir: tempfile::TempDir,
}

impl Fixture {
    fn new() -> Fixture {
        let dir = tempfile::tempdir().expect("temporary directory");
        let source = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/tiny");
        copy_tree(&source, dir.path());
        Fixture { dir }
    }

    fn book(&self) -> PathBuf {
        self.dir.path().join("book")
    }

    /// Runs the runner as mdBook would, on one chapter `src/chapter.md`.
    fn preprocess(&self, chapter: &str) -> (Output, Option<String>) {
        self.preprocess_with(chapter, Config::default())
    }

    fn preprocess_with(&self, chapter: &str, config: Config) -> (Output, Option<String>) {
        self.run_preprocessor(runner_command(&self.book()), chapter, config)
    }

    /// Like `preprocess`, with a runner command of the test's making.
    fn preprocess_command(&self, cmd: Command, chapter: &str) -> (Output, Option<String>) {
        self.run_preprocessor(cmd, chapter, Config::default())
    }

    fn run_preprocessor(
        &self,
        mut cmd: Command,
        chapter: &str,
        mut config: Config,
    ) -> (Output, Option<String>) {
        config.book.src = PathBuf::from("src");
        let ctx = PreprocessorContext::new(self.book(), config, "html".into());
        let mut book = Book::new();
        book.push_item(Chapter::new(
            "Chapter",
            chapter.into(),
            "chapter.md",
            Vec::new(),
        ));
        let input = serde_json::to_vec(&(&ctx, &book)).expect("serialise the input");

        let mut child = cmd
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("start the runner");
        let mut stdin = child.stdin.take().expect("stdin");
        std::io::Write::write_all(&mut stdin, &input).expect("write the input");
        drop(stdin);
        let output = child.wait_with_output().expect("wait for the runner");
        let content = output.status.success().then(|| {
            let book: Book = serde_json::from_slice(&output.stdout).expect("a book on stdout");
            match book.items.first() {
                Some(BookItem::Chapter(ch)) => ch.content.clone(),
                other => panic!("expected the chapter back, got {other:?}"),
            }
        });
        (output, content)
    }
}

/// The runner, run from `dir`, with no outer target directory leaking in.
fn runner_command(dir: &Path) -> Command {
    let mut cmd = Command::new(RUNNER);
    cmd.current_dir(dir).env_remove("CARGO_TARGET_DIR");
    cmd
}

fn copy_tree(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).expect("create a fixture directory");
    for entry in std::fs::read_dir(from).expect("read the fixture") {
        let entry = entry.expect("fixture entry");
        let target = to.join(entry.file_name());
        if entry.path().is_dir() {
            if entry.file_name() != "target" {
                copy_tree(&entry.path(), &target);
            }
        } else {
            std::fs::copy(entry.path(), &target).expect("copy a fixture file");
        }
    }
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

fn rustc_version() -> String {
    let out = Command::new(std::env::var_os("RUSTC").unwrap_or_else(|| "rustc".into()))
        .arg("--version")
        .output()
        .expect("rustc --version");
    String::from_utf8_lossy(&out.stdout).trim().to_owned()
}

#[test]
fn directives_become_real_output_and_a_warm_rerun_is_cached() {
    let fixture = Fixture::new();
    let chapter = "# Chapter\n\
                   {{#run hello -- one two}}\n\
                   {{#run exits --expect-exit 3 -- 3}}\n\
                   {{#pitfall fails-as-expected}}\n\
                   Built with {{#toolchain}}.\n\
                   ```md\n\\{{#run in-a-fence}}\n```\n\
                   \\{{#run not-a-package}}\n";

    let (output, content) = fixture.preprocess(chapter);
    assert!(output.status.success(), "{}", stderr(&output));
    let content = content.expect("content");
    assert!(
        content.contains("```text\nhello from the fixture, args: [\"one\", \"two\"]\n```\n"),
        "{content}"
    );
    assert!(
        content.contains("```text\nexiting with 3\n```\n"),
        "{content}"
    );
    assert!(
        content.contains(
            "```text\nerror[E0200]: a diagnostic from the fixture\n --> src/main.rs:6:1\n```\n"
        ),
        "{content}"
    );
    assert!(
        content.contains(&format!("Built with {}.\n", rustc_version())),
        "{content}"
    );
    assert!(
        content.contains("```md\n\\{{#run in-a-fence}}\n```\n"),
        "{content}"
    );
    assert!(content.contains("\\{{#run not-a-package}}"), "{content}");

    let started = Instant::now();
    let (warm, warm_content) = fixture.preprocess(chapter);
    let took = started.elapsed();
    assert!(warm.status.success(), "{}", stderr(&warm));
    assert_eq!(warm_content.as_deref(), Some(content.as_str()));
    assert!(
        stderr(&warm).contains("all 4 results are cached"),
        "{}",
        stderr(&warm)
    );
    assert!(took < Duration::from_secs(10), "a warm rerun took {took:?}");

    // A changed source invalidates exactly what depends on it.
    let main = fixture.dir.path().join("hello/src/main.rs");
    let source = std::fs::read_to_string(&main).unwrap();
    std::fs::write(&main, source.replace("hello from", "greetings from")).unwrap();
    let (changed, changed_content) = fixture.preprocess(chapter);
    assert!(changed.status.success(), "{}", stderr(&changed));
    let changed_content = changed_content.expect("content");
    assert!(
        changed_content.contains("greetings from the fixture"),
        "{changed_content}"
    );
    assert!(
        stderr(&changed).contains("[1/1] {{#run hello -- one two}}"),
        "{}",
        stderr(&changed)
    );
}

#[test]
fn markdown_output_is_inserted_unfenced_and_release_runs_are_their_own() {
    let fixture = Fixture::new();
    let chapter = "# Chapter\n\n\
                   {{#run hello --markdown -- **bold**}}\n\n\
                   {{#run hello --release -- fast}}\n";
    let (output, content) = fixture.preprocess(chapter);
    assert!(output.status.success(), "{}", stderr(&output));
    let content = content.expect("content");
    assert_eq!(
        content,
        "# Chapter\n\n\
         hello from the fixture, args: [\"**bold**\"]\n\n\
         ```text\nhello from the fixture, args: [\"fast\"]\n```\n"
    );
    let err = stderr(&output);
    assert!(err.contains("building hello (release;"), "{err}");
    let release_bin = fixture.dir.path().join(format!(
        "target/release/hello{}",
        std::env::consts::EXE_SUFFIX
    ));
    assert!(release_bin.is_file(), "{}", release_bin.display());
}

#[test]
fn every_failure_names_file_and_line_and_fails_the_build() {
    let fixture = Fixture::new();
    let chapter = "{{#run countin}}\n\
                   \n\
                   {{#run hello --expect-exit}}\n\
                   {{#run exits -- 4}}\n\
                   {{#run exits --expect-exit 2 -- 5}}\n\
                   {{#pitfall not-failing}}\n\
                   {{#pitfall no-such-case}}\n\
                   {{#run broken}}\n\
                   {{#run hello --bin other}}\n";
    let (output, content) = fixture.preprocess(chapter);
    assert!(!output.status.success(), "the build must fail");
    assert_eq!(content, None);
    let err = stderr(&output);
    let expected = [
        "src/chapter.md:1: package `countin` does not exist in the workspace (packages: broken, exits, hello, pitfalls, wrong-1-off-by-one, wrong-1-passes, wrong-1-racy)",
        "src/chapter.md:3: malformed `{{#run hello --expect-exit}}`: `--expect-exit` needs a value",
        "src/chapter.md:4: `cargo run -p exits --bin exits -- 4` exited with status 4, expected status 0 (if that failure is the point, write `--expect-exit 4`)",
        "exits: about to end with status 4",
        "src/chapter.md:5: `cargo run -p exits --bin exits -- 5` exited with status 5, expected status 2:",
        "src/chapter.md:6: pitfall case `not-failing` did not fail the way it should:\nthe case compiled and ran cleanly",
        "src/chapter.md:7: unknown pitfall case `no-such-case`",
        "src/chapter.md:8: package `broken` does not build:",
        "mismatched types",
        "src/chapter.md:9: package `hello` has no binary `other` (binaries: hello)",
        "error: the runner found 8 problem(s)",
    ];
    for line in expected {
        assert!(err.contains(line), "missing {line:?} in:\n{err}");
    }
    // The first compiler error, not the summary at the end of the build.
    assert!(!err.contains("aborting due to"), "{err}");
}

#[test]
fn a_program_that_runs_too_long_is_stopped_and_reported() {
    let fixture = Fixture::new();
    let mut config = Config::default();
    config.set("preprocessor.runner.timeout-secs", 3).unwrap();
    let started = Instant::now();
    let (output, content) =
        fixture.preprocess_with("# Slow\n\n{{#run exits -- 0 sleep}}\n", config);
    assert!(!output.status.success());
    assert_eq!(content, None);
    let err = stderr(&output);
    assert!(err.contains("src/chapter.md:3: `cargo run -p exits --bin exits -- 0 sleep`: still running after 3 s, stopped"), "{err}");
    // Build time included; far less than the program's sleep.
    assert!(
        started.elapsed() < Duration::from_secs(300),
        "took {:?}",
        started.elapsed()
    );
}

#[test]
fn a_wrong_answer_shows_its_real_failure_and_one_that_passes_fails_the_build() {
    let fixture = Fixture::new();
    let chapter = "# Wrong answers\n\n{{#wrong-answer wrong-1-off-by-one}}\n";
    let (output, content) = fixture.preprocess(chapter);
    assert!(output.status.success(), "{}", stderr(&output));
    let content = content.expect("content");
    assert!(
        content.starts_with(
            "# Wrong answers\n\n```text\ntest adds_small_numbers ... FAILED\n\
             thread 'adds_small_numbers' panicked at exercises/exercise-1/tests/sums.rs:7:5:\n\
             assertion `left == right` failed: 2 + 3 is 5\n  left: 6\n right: 5\n```"
        ),
        "{content}"
    );
    assert!(
        !content.contains(&fixture.dir.path().display().to_string()),
        "{content}"
    );

    // Proven once: a rebuild with the same inputs runs nothing.
    let (warm, warm_content) = fixture.preprocess(chapter);
    assert!(warm.status.success(), "{}", stderr(&warm));
    assert_eq!(warm_content.as_deref(), Some(content.as_str()));
    assert!(
        stderr(&warm).contains("1 of 1 wrong answers proven before with the same inputs (cached)"),
        "{}",
        stderr(&warm)
    );

    let (output, content) = fixture.preprocess(
        "# Wrong answers\n\n{{#wrong-answer wrong-1-passes}}\n\n{{#wrong-answer wrong-1-nothing}}\n\n{{#wrong-answer wrong-1-off-by-one x}}\n",
    );
    assert!(
        !output.status.success(),
        "a wrong answer that passes fails the build"
    );
    assert_eq!(content, None);
    let err = stderr(&output);
    for expected in [
        "src/chapter.md:3: `{{#wrong-answer wrong-1-passes}}` cannot show wrong-1-passes's failure: \
         wrong-1-passes PASSES its exercise's tests (2 passed with `cargo test -p wrong-1-passes --no-fail-fast`): \
         they do not catch this mistake",
        "src/chapter.md:5: no wrong answer `wrong-1-nothing`: wrong-answers/exercise-1/nothing/Cargo.toml does not exist",
        "src/chapter.md:7: malformed `{{#wrong-answer wrong-1-off-by-one x}}`: `{{#wrong-answer}}` takes exactly one package name",
        "error: the runner found 3 problem(s)",
    ] {
        assert!(err.contains(expected), "missing {expected:?} in:\n{err}");
    }
}

/// The pinned nightly of the real workspace, if Miri is installed for it.
fn miri_toolchain() -> Option<String> {
    let manifest =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("../../Cargo.toml"))
            .ok()?;
    let line = manifest.lines().find(|l| l.starts_with("miri-toolchain"))?;
    let toolchain = line.split('"').nth(1)?.to_owned();
    let installed = Command::new("cargo")
        .args([&format!("+{toolchain}"), "miri", "--version"])
        .env_remove("RUSTUP_TOOLCHAIN")
        .output()
        .is_ok_and(|o| o.status.success());
    installed.then_some(toolchain)
}

#[test]
fn a_wrong_answer_rejected_by_miri_shows_the_undefined_behaviour() {
    let Some(toolchain) = miri_toolchain() else {
        println!(
            "skipped: Miri on the pinned nightly is not installed (`cargo workbook miri --install`)"
        );
        return;
    };
    let fixture = Fixture::new();
    let mut cmd = runner_command(&fixture.book());
    cmd.env("WORKBOOK_MIRI_TOOLCHAIN", &toolchain);
    let (output, content) =
        fixture.preprocess_command(cmd, "# Racy\n\n{{#wrong-answer wrong-1-racy}}\n");
    assert!(output.status.success(), "{}", stderr(&output));
    let content = content.expect("content");
    assert!(
        content.contains("```text\ntest two_threads_count_to_two ... stopped by Miri (seed "),
        "{content}"
    );
    assert!(
        content.contains("error: Undefined Behavior: Data race detected between"),
        "{content}"
    );
    assert!(
        content.contains("wrong-answers/exercise-1/racy/src/lib.rs:"),
        "{content}"
    );
}

#[test]
fn the_book_builds_with_mdbooks_library_and_stops_on_a_failure() {
    let fixture = Fixture::new();
    let build = |book: &Path| {
        runner_command(book)
            .arg("build")
            .arg(book)
            .output()
            .expect("run the runner's build")
    };
    let output = build(&fixture.book());
    assert!(output.status.success(), "{}", stderr(&output));
    let page = std::fs::read_to_string(fixture.book().join("build/chapter.html")).unwrap();
    assert!(page.contains("hello from the fixture, args: []"), "{page}");

    let check = runner_command(&fixture.book())
        .arg("check")
        .arg(fixture.book())
        .output()
        .unwrap();
    assert!(check.status.success(), "{}", stderr(&check));

    std::fs::write(
        fixture.book().join("src/chapter.md"),
        "# Chapter\n\n{{#run hello}}\n\n{{#run nowhere}}\n\n```text\ntyped by hand\n```\n",
    )
    .unwrap();
    let output = build(&fixture.book());
    assert!(!output.status.success(), "the build must fail");
    let err = stderr(&output);
    assert!(
        err.contains("src/chapter.md:5: package `nowhere` does not exist"),
        "{err}"
    );

    let check = runner_command(&fixture.book())
        .arg("check")
        .arg(fixture.book())
        .output()
        .unwrap();
    assert!(!check.status.success());
    assert!(
        stderr(&check).contains("src/chapter.md:7: a ```text block typed by hand"),
        "{}",
        stderr(&check)
    );
}

/// `mdbook-runner serve` on a fixture, with everything it prints collected.
struct Server {
    child: std::process::Child,
    log: std::sync::Arc<std::sync::Mutex<String>>,
    address: String,
}

impl Server {
    fn start(book: &Path) -> Server {
        let mut child = runner_command(book)
            .args(["serve", "--port", "0"])
            .arg(book)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("start the server");
        let log = std::sync::Arc::new(std::sync::Mutex::new(String::new()));
        let out = child.stdout.take().expect("stdout");
        let err = child.stderr.take().expect("stderr");
        for stream in [
            Box::new(out) as Box<dyn std::io::Read + Send>,
            Box::new(err),
        ] {
            let log = std::sync::Arc::clone(&log);
            std::thread::spawn(move || {
                for line in
                    std::io::BufRead::lines(std::io::BufReader::new(stream)).map_while(Result::ok)
                {
                    let mut log = log.lock().unwrap();
                    log.push_str(&line);
                    log.push('\n');
                }
            });
        }
        let mut server = Server {
            child,
            log,
            address: String::new(),
        };
        let line = server.wait_for("is served on http://", 0);
        server.address = line
            .split("http://")
            .nth(1)
            .and_then(|rest| rest.split_whitespace().next())
            .expect("an address")
            .to_owned();
        server
    }

    fn log(&self) -> String {
        self.log.lock().unwrap().clone()
    }

    /// The line containing the `n`-th (from 0) occurrence of `text` in the
    /// log, waiting for it up to two minutes.
    fn wait_for(&self, text: &str, n: usize) -> String {
        let deadline = Instant::now() + Duration::from_secs(120);
        loop {
            let log = self.log();
            if let Some(line) = log.lines().filter(|l| l.contains(text)).nth(n) {
                return line.to_owned();
            }
            assert!(Instant::now() < deadline, "no {text:?} (#{n}) in:\n{log}");
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    fn get(&self, path: &str) -> String {
        use std::io::{Read, Write};
        let mut stream = std::net::TcpStream::connect(&self.address).expect("connect");
        write!(stream, "GET {path} HTTP/1.1\r\nHost: test\r\n\r\n").unwrap();
        let mut text = String::new();
        stream.read_to_string(&mut text).unwrap();
        text
    }

    /// Opens the live-reload socket as a page does; returns once the server
    /// tells it to reload.
    fn reload_socket(&self) -> std::thread::JoinHandle<Vec<u8>> {
        use std::io::{BufRead, Read, Write};
        let mut stream = std::net::TcpStream::connect(&self.address).expect("connect");
        stream
            .write_all(b"GET /__livereload HTTP/1.1\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n")
            .unwrap();
        std::thread::spawn(move || {
            stream
                .set_read_timeout(Some(Duration::from_secs(120)))
                .unwrap();
            let mut reader = std::io::BufReader::new(stream);
            let mut line = String::new();
            while line != "\r\n" {
                line.clear();
                reader.read_line(&mut line).unwrap();
            }
            let mut frame = [0u8; 8];
            reader.read_exact(&mut frame).unwrap();
            frame.to_vec()
        })
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[test]
fn serve_shows_a_placeholder_at_once_then_the_output_and_a_failure_once() {
    let fixture = Fixture::new();
    let server = Server::start(&fixture.book());
    // The first page is up before the program was built.
    let page = server.get("/chapter.html");
    assert!(page.starts_with("HTTP/1.1 200 OK"), "{page}");
    assert!(page.contains("Not run yet"), "{page}");
    assert!(!page.contains("hello from the fixture"), "{page}");

    let reload = server.reload_socket();
    assert_eq!(reload.join().unwrap(), b"\x81\x06reload");
    server.wait_for("results from the background are ready", 0);
    server.wait_for("· built in", 1);
    let page = server.get("/chapter.html");
    assert!(page.contains("hello from the fixture, args: []"), "{page}");
    assert!(!page.contains("Not run yet"), "{page}");

    // A program that does not build: its failure is shown in the page, and
    // it is not run again until a file changes.
    std::fs::write(
        fixture.book().join("src/chapter.md"),
        "# Chapter\n\n{{#run hello}}\n\n{{#run broken}}\n",
    )
    .unwrap();
    server.wait_for("chapter.md changed", 0);
    server.wait_for("results from the background are ready", 1);
    server.wait_for("· built in", 3);
    let page = server.get("/chapter.html");
    assert!(page.contains("This run failed"), "{page}\n{}", server.log());
    assert!(page.contains("does not build"), "{page}");
    assert!(page.contains("hello from the fixture"), "{page}");
    std::thread::sleep(Duration::from_secs(3));
    let log = server.log();
    assert_eq!(
        log.matches("in the background; their pages show a placeholder")
            .count(),
        2,
        "a failed result must not be run again without a change:\n{log}"
    );
    let missing = server.get("/nowhere.html");
    assert!(missing.starts_with("HTTP/1.1 404"), "{missing}");
}

/// mdBook empties its output directory before it renders, and a broken
/// theme template stops it halfway: the server builds beside the pages it
/// serves, so they stay up through a failed build.
#[test]
fn serve_keeps_the_last_good_pages_through_a_failed_build() {
    let fixture = Fixture::new();
    let chapter = fixture.book().join("src/chapter.md");
    std::fs::write(&chapter, "# Chapter\n\nThe first version.\n").unwrap();
    let server = Server::start(&fixture.book());
    let page = server.get("/chapter.html");
    assert!(page.contains("The first version."), "{page}");

    let theme = fixture.book().join("theme");
    std::fs::create_dir_all(&theme).unwrap();
    std::fs::write(theme.join("head.hbs"), "{{#if}}").unwrap();
    server.wait_for("the book does not build", 0);
    let page = server.get("/chapter.html");
    assert!(
        page.starts_with("HTTP/1.1 200 OK") && page.contains("The first version."),
        "{page}\n{}",
        server.log()
    );

    std::fs::remove_dir_all(&theme).unwrap();
    std::fs::write(&chapter, "# Chapter\n\nThe second version.\n").unwrap();
    server.wait_for("· built in", 1);
    let page = server.get("/chapter.html");
    assert!(page.contains("The second version."), "{page}");
    for left in ["build.next", "build.old"] {
        assert!(
            !fixture.book().join(left).exists(),
            "{left} is left beside the site"
        );
    }
}

#[test]
fn a_widget_becomes_its_div_and_loader_and_an_unknown_one_fails_the_build() {
    let fixture = Fixture::new();
    let (output, content) = fixture.preprocess("# Widgets\n\n{{#widget heap-map}}\n");
    assert!(output.status.success(), "{}", stderr(&output));
    let content = content.expect("content");
    assert!(
        content.starts_with(
            "# Widgets\n\n<div class=\"playground-widget\" data-widget=\"heap-map\"><p class=\"pg-waiting\">"
        ) && content.ends_with(
            "ready.</p></div>\n\n<script type=\"module\" src=\"playground/loader.js\"></script>\n"
        ),
        "{content}"
    );

    let (output, content) = fixture.preprocess("# Widgets\n\n{{#widget heap-mop}}\n");
    assert!(
        !output.status.success(),
        "an unknown widget must fail the build"
    );
    assert_eq!(content, None);
    let err = stderr(&output);
    assert!(
        err.contains(
            "src/chapter.md:3: `{{#widget heap-mop}}`: the playground has no widget `heap-mop`; \
             playground/www/widgets.js defines meter, heap-map"
        ),
        "{err}"
    );
}

#[test]
fn without_miri_a_miri_wrong_answer_fails_the_build_unless_a_note_is_allowed() {
    let fixture = Fixture::new();
    let chapter = "# Racy\n\n{{#wrong-answer wrong-1-racy}}\n";
    let without_miri = || {
        let mut cmd = runner_command(&fixture.book());
        cmd.env(
            "WORKBOOK_MIRI_TOOLCHAIN",
            "nightly-1999-01-01-not-installed",
        );
        cmd
    };

    let (output, content) = fixture.preprocess_command(without_miri(), chapter);
    assert!(!output.status.success(), "the default is to fail");
    assert_eq!(content, None);
    assert!(
        stderr(&output).contains(
            "Miri on the pinned nightly `nightly-1999-01-01-not-installed` is not installed"
        ),
        "{}",
        stderr(&output)
    );

    let cmd = without_miri();
    let mut config = Config::default();
    config
        .set("preprocessor.runner.without-miri", "note")
        .unwrap();
    let (output, content) = fixture.run_preprocessor(cmd, chapter, config);
    assert!(output.status.success(), "{}", stderr(&output));
    let content = content.expect("content");
    assert!(
        content.contains("> Miri is what proves this mistake caught (a normal test run catches it")
            && content.contains("`cargo workbook wrong-answers wrong-1-racy`"),
        "{content}"
    );

    let mut config = Config::default();
    config
        .set("preprocessor.runner.without-miri", "skip")
        .unwrap();
    let (output, _) = fixture.run_preprocessor(without_miri(), chapter, config);
    assert!(
        stderr(&output).contains(
            "preprocessor.runner.without-miri is `skip`; use \"fail\" (the default) or \"note\""
        ),
        "{}",
        stderr(&output)
    );
}

#[test]
fn a_target_directory_set_in_cargo_config_outside_the_workspace_is_used() {
    let fixture = Fixture::new();
    let elsewhere = tempfile::tempdir().expect("temporary directory");
    std::fs::create_dir_all(fixture.dir.path().join(".cargo")).expect("create .cargo");
    std::fs::write(
        fixture.dir.path().join(".cargo/config.toml"),
        format!(
            "[build]\ntarget-dir = \"{}\"\n",
            elsewhere.path().display().to_string().replace('\\', "/")
        ),
    )
    .expect("write the config");
    let (output, content) = fixture.preprocess("# Chapter\n\n{{#run hello -- one}}\n");
    assert!(output.status.success(), "{}", stderr(&output));
    assert!(
        content
            .expect("content")
            .contains("hello from the fixture, args: [\"one\"]"),
    );
    let cache = elsewhere.path().join("book-runner/cache");
    assert!(
        std::fs::read_dir(&cache).is_ok_and(|mut d| d.next().is_some()),
        "the result is cached under the configured target directory"
    );
    assert!(
        !fixture.dir.path().join("target").exists(),
        "nothing was built inside the workspace"
    );
}

/// `cargo metadata` takes about a second in a real workspace: a build asks
/// it once, however many kinds of directive the book uses (each kind loaded
/// the workspace again before).
#[test]
fn one_build_asks_cargo_metadata_once() {
    use std::os::unix::fs::PermissionsExt;

    let fixture = Fixture::new();
    let log = fixture.dir.path().join("cargo-calls.log");
    let logging_cargo = fixture.dir.path().join("logging-cargo");
    let real_cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    std::fs::write(
        &logging_cargo,
        format!(
            "#!/bin/sh\necho \"$*\" >> '{}'\nexec '{}' \"$@\"\n",
            log.display(),
            Path::new(&real_cargo).display()
        ),
    )
    .unwrap();
    std::fs::set_permissions(&logging_cargo, std::fs::Permissions::from_mode(0o755)).unwrap();

    let mut cmd = runner_command(&fixture.book());
    cmd.env("CARGO", &logging_cargo);
    let chapter = "# All kinds\n\n{{#run hello}}\n\n{{#wrong-answer wrong-1-off-by-one}}\n\n\
                   {{#widget heap-map}}\n\nBuilt with {{#toolchain}}.\n";
    let (output, content) = fixture.preprocess_command(cmd, chapter);
    assert!(output.status.success(), "{}", stderr(&output));
    assert!(content.is_some_and(|c| c.contains("hello from the fixture")));

    let calls = std::fs::read_to_string(&log).expect("the runner ran cargo");
    let metadata: Vec<&str> = calls
        .lines()
        .filter(|l| l.starts_with("metadata"))
        .collect();
    assert_eq!(metadata.len(), 1, "cargo was run as:\n{calls}");
}
