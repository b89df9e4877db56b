//! From physical input lines to command lines: `\` continuations, and which lines of a
//! script are passwords rather than commands.
//!
//! AWS prints nearly every multi-line example of the CloudHSM CLI with shell-style `\`
//! continuations, at the `aws-cloudhsm >` prompt as well as in bash. People paste them into the
//! shell, into heredocs and into command files, so every way in (the terminal, piped input, the
//! transcript tests) joins lines with the one [`Continuation`] below.

use zeroize::Zeroizing;

/// Joins physical lines into command lines: a line that ends in an unescaped `\` continues on
/// the next one, as in a POSIX shell. The backslash and the line break are removed; nothing
/// else is, so `rsa \` followed by `  --public-exponent 65537` gives `rsa   --public-exponent
/// 65537`. Blanks after the backslash (a copy from a web page often carries some) are allowed.
/// A comment line (`#` first) never continues.
///
/// The text collected so far may hold a password, so it is zeroed when dropped.
#[derive(Default)]
pub struct Continuation {
    pending: Option<Zeroizing<String>>,
}

impl Continuation {
    pub fn new() -> Continuation {
        Continuation::default()
    }

    /// Takes the next physical line. Returns the whole command line once it is complete, or
    /// `None` while it continues on the next line.
    pub fn push(&mut self, line: &str) -> Option<Zeroizing<String>> {
        let starts_command = self.pending.is_none();
        let mut text = self.pending.take().unwrap_or_default();
        if starts_command && line.trim_start().starts_with('#') {
            text.push_str(line);
            return Some(text);
        }
        match continued(line) {
            Some(head) => {
                text.push_str(head);
                self.pending = Some(text);
                None
            }
            None => {
                text.push_str(line);
                Some(text)
            }
        }
    }

    /// Whether a command line has begun and waits for its next line.
    pub fn is_continuing(&self) -> bool {
        self.pending.is_some()
    }

    /// At the end of input: what was collected, as POSIX shells run a command whose last line
    /// ends in `\`.
    pub fn finish(&mut self) -> Option<Zeroizing<String>> {
        self.pending.take()
    }
}

/// If `line` ends in an unescaped backslash (blanks after it allowed), the line without it.
fn continued(line: &str) -> Option<&str> {
    let body = line.trim_end_matches([' ', '\t']);
    let escapes = body.bytes().rev().take_while(|&b| b == b'\\').count();
    (escapes % 2 == 1).then(|| &body[..body.len() - 1])
}

/// How many of the input lines after `words` a piped session reads as passwords: a command that
/// takes a password and was not given `--password` reads one (`login`) or two (a new password
/// and its confirmation) lines. The shell uses this when such a line fails to parse, so that
/// the lines its author wrote as the password are never run, and so never echoed, as commands.
pub fn password_lines(words: &[String]) -> usize {
    let given = words.iter().any(|w| {
        let name = w.split_once('=').map_or(w.as_str(), |(n, _)| n);
        name == "--password"
    });
    if given || words.iter().any(|w| w == "--help" || w == "-h") {
        return 0;
    }
    let path: Vec<&str> = words
        .iter()
        .map(String::as_str)
        .filter(|w| !w.starts_with('-'))
        .take(2)
        .collect();
    match path.as_slice() {
        ["login", "mfa-token-sign"] => 0,
        ["login", ..] => 1,
        ["cluster", "activate"] | ["user", "create"] | ["user", "change-password"] => 2,
        _ => 0,
    }
}

/// Whether a command line carries a password and must stay out of the history file. The line
/// is judged by the words the shell will parse, not by its raw text, so that quoting
/// (`--pass\word`, `--pass'word'`, `--pass""word`) cannot smuggle a password past the check.
/// A line whose quoting does not parse is not kept either: what it holds is unknown.
pub fn holds_secret(line: &str) -> bool {
    let Some(mut words) = shlex::split(line) else {
        return true;
    };
    let secret = words.iter().any(|w| {
        let name = w.split_once('=').map_or(w.as_str(), |(n, _)| n);
        name.starts_with("--") && name.contains("password")
    });
    words.iter_mut().for_each(zeroize::Zeroize::zeroize);
    secret
}

/// Replaces each password given on `words` (the value of `--password`) in `text` by
/// `<hidden>`: clap's usage errors quote values, and a line that fails to parse must not print
/// the secret it holds.
pub fn redact(text: &str, words: &[String]) -> String {
    let mut text = text.to_string();
    let mut secrets: Vec<&str> = Vec::new();
    for (i, w) in words.iter().enumerate() {
        if w == "--password" {
            if let Some(v) = words.get(i + 1) {
                secrets.push(v);
            }
        } else if let Some(v) = w.strip_prefix("--password=") {
            secrets.push(v);
        }
    }
    // Longest first, so that a password holding another one is hidden whole.
    secrets.sort_by_key(|s| std::cmp::Reverse(s.len()));
    for s in secrets.into_iter().filter(|s| !s.is_empty()) {
        text = text.replace(s, "<hidden>");
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    fn join(lines: &[&str]) -> Vec<String> {
        let mut c = Continuation::new();
        let mut out: Vec<String> = lines
            .iter()
            .filter_map(|l| c.push(l))
            .map(|s| s.to_string())
            .collect();
        out.extend(c.finish().map(|s| s.to_string()));
        out
    }

    #[test]
    fn backslash_continues_the_line() {
        assert_eq!(
            join(&[
                "key generate-asymmetric-pair rsa \\",
                "--public-exponent 65537 \\",
                "    --modulus-size-bits 2048",
                "user list",
            ]),
            [
                "key generate-asymmetric-pair rsa --public-exponent 65537     --modulus-size-bits 2048",
                "user list"
            ]
        );
    }

    #[test]
    fn blanks_after_the_backslash_still_continue() {
        assert_eq!(join(&["a \\  ", "b"]), ["a b"]);
        assert_eq!(join(&["a \\\t", "b"]), ["a b"]);
    }

    #[test]
    fn an_escaped_backslash_does_not_continue() {
        assert_eq!(join(&["a \\\\", "b"]), ["a \\\\", "b"]);
        assert_eq!(join(&["a \\\\\\", "b"]), ["a \\\\b"]);
    }

    #[test]
    fn comments_never_continue_and_end_of_input_runs_what_was_collected() {
        assert_eq!(
            join(&["# a comment \\", "user list"]),
            ["# a comment \\", "user list"]
        );
        assert_eq!(join(&["user \\", "list \\"]), ["user list "]);
        let mut c = Continuation::new();
        assert!(c.push("user \\").is_none());
        assert!(c.is_continuing());
        assert_eq!(
            c.push("list").as_deref().map(String::as_str),
            Some("user list")
        );
        assert!(!c.is_continuing());
    }

    fn words(line: &str) -> Vec<String> {
        shlex::split(line).unwrap_or_default()
    }

    #[test]
    fn password_lines_follow_commands_that_prompt() {
        assert_eq!(password_lines(&words("login --username admin")), 1);
        assert_eq!(
            password_lines(&words("login --username a --role admin --password x")),
            0
        );
        assert_eq!(password_lines(&words("login --password=x")), 0);
        assert_eq!(password_lines(&words("user create --username bob")), 2);
        assert_eq!(
            password_lines(&words("user change-password --username bob")),
            2
        );
        assert_eq!(password_lines(&words("cluster activate")), 2);
        assert_eq!(password_lines(&words("login mfa-token-sign --token t")), 0);
        assert_eq!(password_lines(&words("login --help")), 0);
        assert_eq!(password_lines(&words("user list")), 0);
        assert_eq!(password_lines(&words("user delete --username bob")), 0);
    }

    #[test]
    fn secrets_are_judged_by_the_parsed_words() {
        assert!(holds_secret("login --username a --role admin --password x"));
        assert!(holds_secret("login --password=x"));
        assert!(holds_secret("login --pass\\word x"));
        assert!(holds_secret("login --pass'word' x"));
        assert!(holds_secret("login --pass\"\"word x"));
        assert!(holds_secret("login --pass'word x"), "unparsable quoting");
        assert!(!holds_secret("user list"));
        assert!(!holds_secret("key list --filter attr.label=password"));
    }

    #[test]
    fn redact_hides_every_password_in_a_message() {
        let w = words("user create --username b --role admn --password s3cret-pw");
        assert_eq!(
            redact("invalid value 'admn'; tip: s3cret-pw", &w),
            "invalid value 'admn'; tip: <hidden>"
        );
        let w = words("login --password=abc --password abcdef");
        assert_eq!(redact("x abcdef abc", &w), "x <hidden> <hidden>");
    }
}
