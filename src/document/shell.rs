//! The page shell: `templates/app.html` with `%fymo.head%` and `%fymo.body%`, or a
//! built-in default.

use std::path::{Path, PathBuf};

const HEAD: &str = "%fymo.head%";
const BODY: &str = "%fymo.body%";

const DEFAULT: &str = "<!doctype html>
<html lang=\"en\">
<head>
<meta charset=\"utf-8\">
<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">
%fymo.head%
</head>
<body>
%fymo.body%
</body>
</html>
";

/// A shell with its placeholders located.
#[derive(Debug, Clone)]
pub(crate) struct Shell {
    before_head: String,
    between: String,
    after_body: String,
}

/// A shell file without its placeholders.
#[derive(Debug, thiserror::Error)]
pub(crate) enum ShellError {
    /// Unreadable.
    #[error("{}: cannot read: {source}", .file.display())]
    Read {
        /// The file.
        file: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// Missing or misplaced placeholders.
    #[error("{}: the shell must contain `%fymo.head%` then `%fymo.body%`, once each", .file.display())]
    Placeholders {
        /// The file.
        file: PathBuf,
    },
}

impl Default for Shell {
    fn default() -> Self {
        Self::parse(Path::new("<built-in>"), DEFAULT).expect("the built-in shell is valid")
    }
}

impl Shell {
    /// `templates/app.html` under `root` if present, else the built-in shell.
    ///
    /// # Errors
    /// An unreadable file or one without the placeholders.
    pub(crate) fn load(root: &Path) -> Result<Self, ShellError> {
        let file = root.join("templates").join("app.html");
        match std::fs::read_to_string(&file) {
            Ok(text) => Self::parse(&file, &text),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Self::default()),
            Err(source) => Err(ShellError::Read { file, source }),
        }
    }

    fn parse(file: &Path, text: &str) -> Result<Self, ShellError> {
        let bad = || ShellError::Placeholders { file: file.to_owned() };
        let (before_head, rest) = text.split_once(HEAD).ok_or_else(bad)?;
        let (between, after_body) = rest.split_once(BODY).ok_or_else(bad)?;
        if [before_head, between, after_body].iter().any(|p| p.contains(HEAD) || p.contains(BODY)) {
            return Err(bad());
        }
        Ok(Self { before_head: before_head.to_owned(), between: between.to_owned(), after_body: after_body.to_owned() })
    }

    /// The text before the head, between head and body, and after the body.
    pub(crate) fn parts(&self) -> (&str, &str, &str) {
        (&self.before_head, &self.between, &self.after_body)
    }

    /// The length of the shell's own text.
    pub(crate) fn len(&self) -> usize {
        self.before_head.len() + self.between.len() + self.after_body.len()
    }

    /// The shell with `head` and `body` in place.
    #[cfg(test)]
    pub(crate) fn fill(&self, head: &str, body: &str) -> String {
        let mut out = String::with_capacity(
            self.before_head.len() + head.len() + self.between.len() + body.len() + self.after_body.len(),
        );
        for part in [&self.before_head[..], head, &self.between, body, &self.after_body] {
            out.push_str(part);
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fills_placeholders_and_refuses_a_shell_without_them() {
        let shell = Shell::parse(Path::new("app.html"), "<h>%fymo.head%</h><b>%fymo.body%</b>").unwrap();
        assert_eq!(shell.fill("H", "B"), "<h>H</h><b>B</b>");
        assert!(Shell::parse(Path::new("app.html"), "<b>%fymo.body%</b>").is_err());
        assert!(Shell::parse(Path::new("app.html"), "%fymo.body%%fymo.head%").is_err());
    }
}
