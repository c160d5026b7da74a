//! The UI files, embedded in the binary with `include_bytes!` so the runtime is self-contained
//! (no build step, nothing downloaded at build or run time).

use axum::extract::Path;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};

macro_rules! asset {
    ($name:literal, $mime:literal) => {
        ($name, $mime, include_bytes!(concat!("../assets/", $name)) as &'static [u8])
    };
}

/// Every embedded file: (path under `/console/`, content type, bytes).
pub(crate) const ASSETS: &[(&str, &str, &[u8])] = &[
    asset!("index.html", "text/html; charset=utf-8"),
    asset!("app.css", "text/css; charset=utf-8"),
    asset!("app.js", "text/javascript; charset=utf-8"),
    asset!("api.js", "text/javascript; charset=utf-8"),
    asset!("i18n.js", "text/javascript; charset=utf-8"),
    asset!("ui.js", "text/javascript; charset=utf-8"),
    asset!("agent.js", "text/javascript; charset=utf-8"),
    asset!("wallboard.js", "text/javascript; charset=utf-8"),
    asset!("admin.js", "text/javascript; charset=utf-8"),
    asset!("reports.js", "text/javascript; charset=utf-8"),
    asset!("erlang.js", "text/javascript; charset=utf-8"),
    asset!("xlsx.js", "text/javascript; charset=utf-8"),
    asset!("metrics.js", "text/javascript; charset=utf-8"),
    asset!("vendor/echarts.min.js", "text/javascript; charset=utf-8"),
];

fn serve(path: &str) -> Response {
    match ASSETS.iter().find(|a| a.0 == path) {
        Some((_, mime, bytes)) => {
            ([(header::CONTENT_TYPE, *mime), (header::CACHE_CONTROL, "no-cache")], *bytes).into_response()
        }
        None => (StatusCode::NOT_FOUND, "no such console file; open /console/").into_response(),
    }
}

/// `GET /console` → `/console/`.
pub(crate) async fn redirect_index() -> Redirect {
    Redirect::permanent("/console/")
}

/// `GET /console/`.
pub(crate) async fn index() -> Response {
    serve("index.html")
}

/// `GET /console/{path}`: an embedded file; unknown paths under the app fall back to 404.
pub(crate) async fn file(Path(path): Path<String>) -> Response {
    serve(&path)
}
