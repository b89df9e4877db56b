//! What users see on stdout: the JSON envelope `{"error_code": N, "data": ...}` of every
//! response, pretty-printed with two-space indentation and keys in the documented order.
//!
//! Only this module writes responses, and always into a writer it is given.

mod table;
mod views;

use std::io::{self, Write};

use serde::Serialize;
use serde_json::Value;

pub use table::{render as render_table, Format, FIXED_WIDTH as TABLE_WIDTH};
pub use views::{
    HsmInfoView, HsmView, KeyBriefView, KeyInfoView, KeyListView, KeyPairView, KeyQuorumView,
    KeyUserView, KeyView, LabelView, LoginView, MessageView, MtlsEnforcementView, OneKeyView,
    OneTrustAnchorView, OneUserView, StrategyView, TrustAnchorView, TrustAnchorsView, UserView,
    UsersView,
};

/// How a shell shows its responses.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct View {
    pub format: Format,
    /// The width of a table; `None` on a terminal, whose width it then takes.
    pub width: Option<u16>,
}

/// One response of the CLI.
#[derive(Debug, Clone, PartialEq, Serialize, serde::Deserialize)]
pub struct Response {
    pub error_code: i32,
    pub data: Value,
}

impl Response {
    /// A success whose `data` is `payload`.
    pub fn ok(payload: impl Serialize) -> Response {
        match serde_json::to_value(payload) {
            Ok(data) => Response {
                error_code: 0,
                data,
            },
            Err(e) => Response::error(format!("Failed to encode the response: {e}")),
        }
    }

    /// A success whose `data` is a message string.
    pub fn message(text: &str) -> Response {
        Response {
            error_code: 0,
            data: Value::String(text.to_string()),
        }
    }

    /// A failure with the given error text.
    pub fn error(text: impl Into<String>) -> Response {
        Response {
            error_code: 1,
            data: Value::String(text.into()),
        }
    }

    /// Whether this response reports success.
    pub fn is_success(&self) -> bool {
        self.error_code == 0
    }

    /// Writes the response as the real CLI prints it and flushes, so that a program driving
    /// the shell over a pipe sees each response as soon as it is complete.
    pub fn write_json(&self, out: &mut dyn Write) -> io::Result<()> {
        // One write for the whole response: stdout is line-buffered, and writing the JSON
        // straight to it cost one system call per line (45 for a generated key).
        out.write_all(&self.render(View::default())?)?;
        out.flush()
    }

    /// The response as `view` shows it: the real CLI's JSON, or in the table view a table
    /// for the list responses (`user list`, `key list`, ...).
    pub fn render(&self, view: View) -> io::Result<Vec<u8>> {
        if view.format == Format::Table {
            let table = serde_json::to_value(self)
                .ok()
                .and_then(|v| table::render(&v, view.width));
            if let Some(table) = table {
                return Ok(table.into_bytes());
            }
        }
        let mut text = serde_json::to_vec_pretty(self)?;
        text.push(b'\n');
        Ok(text)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn envelope_layout() {
        let mut out = Vec::new();
        Response::ok(LoginView {
            username: "alice".into(),
            role: "crypto-user".into(),
        })
        .write_json(&mut out)
        .unwrap();
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "{\n  \"error_code\": 0,\n  \"data\": {\n    \"username\": \"alice\",\n    \"role\": \"crypto-user\"\n  }\n}\n"
        );
        let mut out = Vec::new();
        Response::error("nope").write_json(&mut out).unwrap();
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "{\n  \"error_code\": 1,\n  \"data\": \"nope\"\n}\n"
        );
    }
}
