//! The console's files (`ui/dist`: `console.html` and `assets/`), embedded in the binary so one
//! file still runs the server, served at `/console/` beside the API (same origin: the session
//! cookie and the CSRF header need nothing cross-origin). A build without Node has no `ui/dist`:
//! the server still builds, and `/console/` says how to build the console.
//!
//! Every response of the server carries [`SECURITY_HEADERS`]: a strict CSP (no inline script,
//! nothing from another origin), no framing, no sniffing, no referrer.

use axum::extract::Path;
use axum::http::header::{CACHE_CONTROL, CONTENT_TYPE, LOCATION};
use axum::http::{HeaderName, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use rust_embed::Embed;

#[derive(Embed)]
#[folder = "../../ui/dist"]
#[include = "console.html"]
#[include = "assets/*"]
#[allow_missing = true]
struct ConsoleFiles;

/// Where the console lives.
pub const CONSOLE_PATH: &str = "/console/";

/// The Content-Security-Policy of every response: scripts, styles and connections from this
/// origin only; images also as `data:`/`blob:` (QR codes, the offline map's canvas).
pub const CONTENT_SECURITY_POLICY: &str = "default-src 'self'; script-src 'self'; style-src 'self'; \
     img-src 'self' data: blob:; font-src 'self'; connect-src 'self'; object-src 'none'; base-uri 'none'; \
     frame-ancestors 'none'; form-action 'self'";

pub const SECURITY_HEADERS: &[(&str, &str)] = &[
    ("content-security-policy", CONTENT_SECURITY_POLICY),
    ("x-content-type-options", "nosniff"),
    ("x-frame-options", "DENY"),
    ("referrer-policy", "no-referrer"),
    ("cross-origin-opener-policy", "same-origin"),
];

/// The routes of the console's files (not API routes: public, static, outside the OpenAPI document).
pub fn routes<S: Clone + Send + Sync + 'static>() -> Router<S> {
    Router::new()
        .route("/", get(|| async { redirect(CONSOLE_PATH) }))
        .route("/console", get(|| async { redirect(CONSOLE_PATH) }))
        .route("/console/", get(index))
        .route("/console/assets/{*file}", get(asset))
}

fn redirect(to: &'static str) -> Response {
    (StatusCode::SEE_OTHER, [(LOCATION, to)]).into_response()
}

async fn index() -> Response {
    match ConsoleFiles::get("console.html") {
        // The page is small and names the hashed assets of this build: always revalidated.
        Some(file) => {
            ([(CONTENT_TYPE, "text/html; charset=utf-8"), (CACHE_CONTROL, "no-cache")], file.data).into_response()
        }
        None => {
            (StatusCode::SERVICE_UNAVAILABLE, [(CONTENT_TYPE, "text/html; charset=utf-8")], NOT_BUILT).into_response()
        }
    }
}

async fn asset(Path(file): Path<String>) -> Response {
    match ConsoleFiles::get(&format!("assets/{file}")) {
        Some(content) => {
            let mime = content.metadata.mimetype().to_string();
            // Vite names assets by their content hash: a name never changes meaning.
            ([(CONTENT_TYPE, mime.as_str()), (CACHE_CONTROL, "public, max-age=31536000, immutable")], content.data)
                .into_response()
        }
        None => (StatusCode::NOT_FOUND, "no such file").into_response(),
    }
}

/// Adds [`SECURITY_HEADERS`] to a response that has not set them.
pub async fn security_headers(request: axum::extract::Request, next: axum::middleware::Next) -> Response {
    let mut response = next.run(request).await;
    let headers = response.headers_mut();
    for (name, value) in SECURITY_HEADERS {
        headers.entry(HeaderName::from_static(name)).or_insert(HeaderValue::from_static(value));
    }
    response
}

const NOT_BUILT: &str = "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>Waypoint Console \
     is not built</title></head><body><h1>The Waypoint Console is not built into this server</h1><p>This \
     <code>waypoint-server</code> was built without the console's files (<code>ui/dist</code>). Build them, then \
     the server:</p><pre>cd ui &amp;&amp; npm ci &amp;&amp; npm run build\ncargo build --release -p waypoint-server</pre>\
     <p>(<code>bash scripts/run.sh</code> does both.) The API works without the console.</p></body></html>";
