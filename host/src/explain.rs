//! One line for an error and its causes, as the commands print and log it.
//!
//! anyhow's `{:#}` joins every cause of the chain, and several libraries
//! (deadpool, tokio-postgres) put their cause's text in their own message
//! as well, so a lost database read "…: error connecting to server: …:
//! error connecting to server: …" three times over. Here a cause whose
//! text the line already holds is left out.

/// `error` and its causes, joined by `: `, each said once.
pub fn explain(error: &anyhow::Error) -> String {
    let mut line = String::new();
    for cause in error.chain() {
        let text = cause.to_string();
        if line.contains(&text) {
            continue;
        }
        if !line.is_empty() {
            line.push_str(": ");
        }
        line.push_str(&text);
    }
    line
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, thiserror::Error)]
    #[error("error connecting to server: {0}")]
    struct Connect(#[source] std::io::Error);

    #[test]
    fn a_cause_already_said_is_not_said_again() {
        let io = std::io::Error::new(std::io::ErrorKind::ConnectionRefused, "Connection refused");
        let error = anyhow::Error::new(Connect(io)).context("PostgreSQL database db on h");
        assert_eq!(
            explain(&error),
            "PostgreSQL database db on h: error connecting to server: Connection refused"
        );
        let plain = anyhow::anyhow!("no such file").context("reading a.csv");
        assert_eq!(explain(&plain), "reading a.csv: no such file");
    }
}
