//! The web app in a real browser: Debian's Chromium driven over WebDriver (chromedriver) against
//! a real `debrief serve`. A newcomer's path: the setup link, sign in, create a postmortem, add
//! timeline events, try an action without an owner and see the error, fix it, publish — and two
//! people editing the same section see a conflict instead of losing a word.
//!
//! Without chromedriver the test is skipped, unless `CI=true`, when it fails. With
//! `DEBRIEF_SCREENSHOTS=DIR`, it saves screenshots of the pages it visits.

use std::io::{BufRead, BufReader};
use std::net::TcpListener;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use fantoccini::{Client, ClientBuilder, Locator};

struct Killed(Child);

impl Drop for Killed {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port")
}

fn chromedriver() -> Option<PathBuf> {
    ["/usr/bin/chromedriver", "/usr/lib/chromium/chromedriver"]
        .iter()
        .map(PathBuf::from)
        .find(|p| p.exists())
}

struct Server {
    _process: Killed,
    base: String,
    setup_link: String,
    _dir: PathBuf,
}

fn start_server() -> Server {
    let dir = std::env::temp_dir().join(format!("debrief-browser-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("temp dir");
    let port = free_port();
    let mut child = Command::new(env!("CARGO_BIN_EXE_debrief"))
        .args(["serve", "--addr", &format!("127.0.0.1:{port}")])
        .arg("--database")
        .arg(format!("sqlite://{}", dir.join("debrief.db").display()))
        .env("DEBRIEF_ZONE", "UTC")
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("start debrief serve");
    let stdout = child.stdout.take().expect("stdout");
    let process = Killed(child);
    let mut setup_link = String::new();
    for line in BufReader::new(stdout).lines() {
        let line = line.expect("read");
        if let Some(i) = line.find("/setup/") {
            setup_link = line[line[..i].rfind(' ').map_or(0, |j| j + 1)..]
                .trim()
                .to_owned();
            break;
        }
    }
    assert!(
        !setup_link.is_empty(),
        "debrief serve printed no setup link"
    );
    Server {
        _process: process,
        base: format!("http://127.0.0.1:{port}"),
        setup_link,
        _dir: dir,
    }
}

async fn browser(port: u16) -> Client {
    let mut caps = serde_json::Map::new();
    caps.insert(
        "goog:chromeOptions".to_owned(),
        serde_json::json!({
            "binary": "/usr/bin/chromium",
            "args": ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--window-size=1280,1000"]
        }),
    );
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        match ClientBuilder::new(hyper_util::client::legacy::connect::HttpConnector::new())
            .capabilities(caps.clone())
            .connect(&format!("http://127.0.0.1:{port}"))
            .await
        {
            Ok(c) => return c,
            Err(e) if Instant::now() < deadline => {
                let _ = e;
                tokio::time::sleep(Duration::from_millis(200)).await;
            }
            Err(e) => panic!("cannot start a browser session: {e}"),
        }
    }
}

async fn shot(c: &Client, name: &str) {
    if let Some(dir) = std::env::var_os("DEBRIEF_SCREENSHOTS") {
        let png = c.screenshot().await.expect("screenshot");
        std::fs::create_dir_all(&dir).expect("screenshot dir");
        std::fs::write(PathBuf::from(dir).join(format!("{name}.png")), png).expect("write png");
    }
}

async fn fill(c: &Client, css: &str, text: &str) {
    let e = c
        .find(Locator::Css(css))
        .await
        .unwrap_or_else(|e| panic!("{css}: {e}"));
    e.clear().await.expect("clear");
    e.send_keys(text).await.expect("type");
}

async fn click(c: &Client, css: &str) {
    c.find(Locator::Css(css))
        .await
        .unwrap_or_else(|e| panic!("{css}: {e}"))
        .click()
        .await
        .expect("click");
}

/// The main text of the page; empty while a new page is loading (the old one's elements go stale).
async fn page_text(c: &Client) -> String {
    match c.find(Locator::Css("main")).await {
        Ok(main) => main.text().await.unwrap_or_default(),
        Err(_) => String::new(),
    }
}

/// Waits until the page's main text contains `want`.
async fn wait_for(c: &Client, want: &str) -> String {
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        let text = page_text(c).await;
        if text.contains(want) {
            return text;
        }
        assert!(
            Instant::now() < deadline,
            "the page never showed {want:?}:\n{text}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_postmortem_end_to_end_in_chromium() {
    let Some(driver) = chromedriver() else {
        assert!(
            std::env::var("CI").as_deref() != Ok("true"),
            "chromedriver is not installed; .ci/run installs chromium and chromium-driver"
        );
        eprintln!(
            "skipped: chromedriver is not installed (apt-get install chromium chromium-driver)"
        );
        return;
    };
    let server = start_server();
    let driver_port = free_port();
    let _driver = Killed(
        Command::new(driver)
            .arg(format!("--port={driver_port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start chromedriver"),
    );
    let a = browser(driver_port).await;

    // First start: the setup link creates the admin and signs them in.
    a.goto(&server.setup_link).await.expect("setup page");
    wait_for(&a, "Welcome to Debrief").await;
    shot(&a, "01-setup").await;
    fill(&a, "input[name=name]", "Priya").await;
    fill(&a, "input[name=email]", "priya@example.com").await;
    fill(&a, "input[name=password]", "a long enough password").await;
    fill(&a, "input[name=password2]", "a long enough password").await;
    click(&a, "form button.primary").await;
    wait_for(&a, "No postmortems yet").await;

    // Sign out and in again through the sign-in form.
    click(&a, ".who button").await;
    wait_for(&a, "Sign in").await;
    fill(&a, "input[name=email]", "priya@example.com").await;
    fill(&a, "input[name=password]", "a long enough password").await;
    shot(&a, "02-sign-in").await;
    click(&a, "form button.primary").await;
    wait_for(&a, "Postmortems").await;

    // Create a postmortem.
    a.goto(&format!("{}/new", server.base)).await.expect("new");
    fill(&a, "input[name=title]", "Checkout returned 500s").await;
    fill(&a, "input[name=started]", "2026-11-20 14:02").await;
    fill(
        &a,
        "textarea[name=summary]",
        "About a third of checkouts failed for 40 minutes.",
    )
    .await;
    click(&a, "form button.primary").await;
    wait_for(&a, "Checkout returned 500s").await;
    assert!(
        a.current_url()
            .await
            .expect("url")
            .path()
            .ends_with("/pm/PM-1")
    );

    // Two timeline events.
    for (at, kind, text) in [
        (
            "2026-11-20 14:06",
            "alert",
            "Error-rate alert fires for checkout",
        ),
        ("2026-11-20 14:31", "action", "Config change reverted"),
    ] {
        click(&a, "#add-event > summary").await;
        fill(&a, "#add-event input[name=happened_at]", at).await;
        a.find(Locator::Css("#add-event select[name=kind]"))
            .await
            .expect("kind")
            .select_by_value(kind)
            .await
            .expect("select kind");
        fill(&a, "#add-event textarea[name=description]", text).await;
        click(&a, "#add-event button.primary").await;
        wait_for(&a, text).await;
    }

    // An action without an owner: the error shows next to the field; the title is kept.
    click(&a, "#add-action > summary").await;
    fill(
        &a,
        "#add-action input[name=title]",
        "Alert on connection-pool saturation",
    )
    .await;
    fill(&a, "#add-action input[name=check_in]", "2026-12-01").await;
    click(&a, "#add-action button.primary").await;
    let text = wait_for(&a, "every action needs an owner").await;
    assert!(text.contains("owner"), "{text}");
    let kept = a
        .find(Locator::Css("#add-action input[name=title]"))
        .await
        .expect("title")
        .prop("value")
        .await
        .expect("value");
    assert_eq!(kept.as_deref(), Some("Alert on connection-pool saturation"));
    shot(&a, "03-action-error").await;
    fill(&a, "#add-action input[name=owner]", "team:sre").await;
    click(&a, "#add-action button.primary").await;
    wait_for(&a, "owner team:sre").await;

    // Publish: ready for review, then publish.
    for (button, status) in [("Ready for review", "In review"), ("Publish", "Published")] {
        let form = a
            .find(Locator::Css("#status-panel form"))
            .await
            .expect("status form");
        let buttons = form
            .find_all(Locator::Css("button"))
            .await
            .expect("buttons");
        let mut clicked = false;
        for b in buttons {
            if b.text().await.expect("label") == button {
                b.click().await.expect("click");
                clicked = true;
                break;
            }
        }
        assert!(clicked, "no {button:?} button");
        wait_for(&a, status).await;
    }
    shot(&a, "04-published").await;

    // The linter speaks while someone types, with a rephrasing.
    a.goto(&format!("{}/pm/PM-1", server.base))
        .await
        .expect("page");
    click(&a, "#impact details > summary").await;
    fill(
        &a,
        "#impact textarea[name=impact]",
        "The on-call engineer should have noticed the alert sooner.",
    )
    .await;
    let deadline = Instant::now() + Duration::from_secs(10);
    let hint = loop {
        if let Ok(li) = a.find(Locator::Css("#impact .lint-inline li")).await {
            break li.text().await.expect("hint");
        }
        assert!(Instant::now() < deadline, "no inline lint finding appeared");
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    assert!(hint.contains("should have"), "{hint}");
    assert!(hint.contains("Try:"), "{hint}");
    shot(&a, "05-lint-inline").await;

    // Two people edit the summary at once.
    let b = browser(driver_port).await;
    b.goto(&format!("{}/login", server.base))
        .await
        .expect("login");
    fill(&b, "input[name=email]", "priya@example.com").await;
    fill(&b, "input[name=password]", "a long enough password").await;
    click(&b, "form button.primary").await;
    wait_for(&b, "Postmortems").await;
    let pm = format!("{}/pm/PM-1", server.base);
    a.goto(&pm).await.expect("a opens");
    b.goto(&pm).await.expect("b opens");
    click(&a, "#summary details > summary").await;
    click(&b, "#summary details > summary").await;
    fill(
        &a,
        "#summary textarea[name=summary]",
        "First person's summary.",
    )
    .await;
    fill(
        &b,
        "#summary textarea[name=summary]",
        "Second person's summary.",
    )
    .await;
    click(&a, "#summary button.primary").await;
    wait_for(&a, "First person's summary.").await;
    click(&b, "#summary button.primary").await;
    let text = wait_for(&b, "Someone else saved a change here").await;
    assert!(
        text.contains("First person's summary."),
        "theirs is shown:\n{text}"
    );
    let mine = b
        .find(Locator::Css("#summary textarea[name=summary]"))
        .await
        .expect("textarea")
        .prop("value")
        .await
        .expect("value");
    assert_eq!(
        mine.as_deref(),
        Some("Second person's summary."),
        "what was typed is kept"
    );
    shot(&b, "05-conflict").await;

    a.goto(&format!("{}/actions?view=all", server.base))
        .await
        .expect("board");
    wait_for(&a, "Alert on connection-pool saturation").await;
    shot(&a, "06-actions").await;
    a.goto(&format!("{}/", server.base)).await.expect("archive");
    shot(&a, "07-archive").await;

    b.close().await.expect("close b");
    a.close().await.expect("close a");
}
