//! How the relay names a failure: the root causes of an error chain, for the access log,
//! the relay's own error answers and `/_anyray/health`.

/// The root cause of a client error, for messages and `/_anyray/health`
/// ("tcp connect error: Connection refused (os error 111)").
pub(super) fn describe(err: &(dyn std::error::Error + 'static)) -> String {
    let mut parts: Vec<String> = Vec::new();
    let mut cause = err.source();
    while let Some(e) = cause {
        let text = e.to_string();
        if !parts.iter().any(|p| p.contains(&text)) {
            parts.push(text);
        }
        cause = e.source();
    }
    if parts.is_empty() {
        return err.to_string();
    }
    // Drop a wrapper whose text repeats its cause's.
    parts.dedup_by(|later, earlier| earlier.ends_with(later.as_str()));
    parts.join(": ")
}
