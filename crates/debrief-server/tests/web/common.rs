//! A real Debrief server for tests: a fresh SQLite database in a temporary directory, the whole
//! application on a random loopback port, an admin user and an API token.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use debrief_core::{Scope, UserRole};
use debrief_server::api::accounts::{create_user, issue_token};
use debrief_server::{AppState, Config, SystemClock};
use debrief_store_sqlite::SqliteStore;

pub const PASSWORD: &str = "a long enough password";

pub struct TempDir(pub PathBuf);

impl TempDir {
    pub fn new(label: &str) -> TempDir {
        static N: AtomicUsize = AtomicUsize::new(0);
        let dir = std::env::temp_dir().join(format!(
            "debrief-server-{label}-{}-{}",
            std::process::id(),
            N.fetch_add(1, Ordering::SeqCst)
        ));
        std::fs::create_dir_all(&dir).expect("temp dir");
        TempDir(dir)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

pub struct App {
    pub base: String,
    pub state: AppState,
    /// An admin-scoped token of the admin.
    pub token: String,
    /// The SQLite file, for a second store on it (another instance).
    pub db: PathBuf,
    _dir: TempDir,
}

impl App {
    pub async fn start() -> App {
        App::start_with(Config::default()).await
    }

    pub async fn start_with(config: Config) -> App {
        let dir = TempDir::new("app");
        let db = dir.0.join("debrief.db");
        let store = SqliteStore::open(&db).await.expect("open store");
        let state = AppState::new(Arc::new(store), config, Arc::new(SystemClock));
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let addr = listener.local_addr().expect("addr");
        let app = debrief_server::app(state.clone());
        tokio::spawn(async move {
            axum::serve(
                listener,
                app.into_make_service_with_connect_info::<SocketAddr>(),
            )
            .await
            .expect("serve");
        });
        let admin = create_user(
            state.store(),
            "Ada Admin".parse().expect("name"),
            "ada@example.com".parse().expect("email"),
            UserRole::Admin,
            PASSWORD,
            false,
        )
        .await
        .expect("admin");
        let token = issue_token(
            state.store(),
            state.now(),
            &admin,
            "tests".parse().expect("name"),
            Scope::Admin,
            None,
        )
        .await
        .expect("token")
        .token;
        App {
            base: format!("http://{addr}"),
            state,
            token,
            db,
            _dir: dir,
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// A user with `role` and a token of `scope`; returns the token.
    pub async fn user(&self, name: &str, email: &str, role: UserRole, scope: Scope) -> String {
        let u = create_user(
            self.state.store(),
            name.parse().expect("name"),
            email.parse().expect("email"),
            role,
            PASSWORD,
            false,
        )
        .await
        .expect("user");
        issue_token(
            self.state.store(),
            self.state.now(),
            &u,
            "t".parse().expect("name"),
            scope,
            None,
        )
        .await
        .expect("token")
        .token
    }
}

/// A client without cookies.
pub fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("client")
}

/// A browser-like client: keeps cookies, does not follow redirects.
pub fn browser() -> reqwest::Client {
    reqwest::Client::builder()
        .cookie_store(true)
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("client")
}

/// The value of `<input … name="NAME" value="…">` (or `<meta name=… content=…>`) in a page.
pub fn input_value(html: &str, name: &str) -> Option<String> {
    for marker in [
        format!("name=\"{name}\" value=\""),
        format!("name=\"{name}\" content=\""),
    ] {
        if let Some(i) = html.find(&marker) {
            let rest = &html[i + marker.len()..];
            return rest.find('"').map(|j| rest[..j].to_owned());
        }
    }
    None
}

/// Signs in through the login form; returns the session's CSRF token.
pub async fn sign_in(app: &App, b: &reqwest::Client, email: &str) -> String {
    let page = b.get(app.url("/login")).send().await.expect("login page");
    let html = page.text().await.expect("html");
    let csrf = input_value(&html, "csrf").expect("login csrf");
    let r = b
        .post(app.url("/login"))
        .form(&[
            ("csrf", csrf.as_str()),
            ("next", "/"),
            ("email", email),
            ("password", PASSWORD),
        ])
        .send()
        .await
        .expect("login");
    assert_eq!(r.status(), 303, "sign-in should redirect");
    let home = b.get(app.url("/")).send().await.expect("home");
    assert_eq!(home.status(), 200);
    let html = home.text().await.expect("html");
    input_value(&html, "csrf-token").expect("session csrf")
}
