//! Password prompts: without echo on a terminal, or the next input line when piped. Prompts
//! never go to stdout, which carries only JSON.

use std::io::{self, BufRead};

use crate::session::Prompter;

/// Prompts on the controlling terminal and reads without echo.
#[derive(Debug, Default)]
pub struct TerminalPrompter;

impl Prompter for TerminalPrompter {
    fn password(&mut self, prompt: &str) -> io::Result<Option<String>> {
        match rpassword::prompt_password(prompt) {
            Ok(p) => Ok(Some(p)),
            Err(e) if e.kind() == io::ErrorKind::UnexpectedEof => Ok(None),
            Err(e) => Err(e),
        }
    }

    fn line(&mut self, prompt: &str) -> io::Result<Option<String>> {
        use std::io::Write;
        let mut err = io::stderr();
        write!(err, "{prompt}")?;
        err.flush()?;
        read_line(&mut io::stdin().lock())
    }
}

/// Reads the password from the next line of piped input, as the real CLI does in scripts.
pub struct LinePrompter<'a> {
    input: &'a mut dyn BufRead,
}

impl<'a> LinePrompter<'a> {
    pub fn new(input: &'a mut dyn BufRead) -> Self {
        LinePrompter { input }
    }
}

impl Prompter for LinePrompter<'_> {
    fn password(&mut self, _prompt: &str) -> io::Result<Option<String>> {
        read_line(self.input)
    }

    fn skip_secret_lines(&mut self, count: usize) -> io::Result<usize> {
        let mut skipped = 0;
        while skipped < count {
            match read_line(self.input) {
                Ok(Some(line)) => drop(zeroize::Zeroizing::new(line)),
                Ok(None) => break,
                // Not UTF-8: still a line, and still not to be run.
                Err(e) if e.kind() == io::ErrorKind::InvalidData => {}
                Err(e) => return Err(e),
            }
            skipped += 1;
        }
        Ok(skipped)
    }
}

/// One line without its line ending; `None` at end of input.
pub fn read_line(input: &mut dyn BufRead) -> io::Result<Option<String>> {
    let mut buf = Vec::new();
    if input.read_until(b'\n', &mut buf)? == 0 {
        return Ok(None);
    }
    if buf.last() == Some(&b'\n') {
        buf.pop();
        if buf.last() == Some(&b'\r') {
            buf.pop();
        }
    }
    String::from_utf8(buf).map(Some).map_err(|e| {
        // The line may hold a password even if it is not UTF-8.
        zeroize::Zeroize::zeroize(&mut e.into_bytes());
        io::Error::new(io::ErrorKind::InvalidData, "input line is not valid UTF-8")
    })
}

/// A prompter with nothing to answer: every prompt meets the end of input.
#[derive(Debug, Default)]
pub struct NoInput;

impl Prompter for NoInput {
    fn password(&mut self, _prompt: &str) -> io::Result<Option<String>> {
        Ok(None)
    }
}
