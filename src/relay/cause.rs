//! How the relay names a failure: the root causes of an error chain, for the access log,
//! the relay's own error answers and `/_anyray/health`.

/// The root cause of a pooled client's error, for messages and `/_anyray/health`
/// ("tcp connect error: Connection refused (os error 111)"). Its own text is only the
/// pooled client's wrapper ("client error (Connect)").
pub(super) fn describe(err: &(dyn std::error::Error + 'static)) -> String {
    describe_from(err, err.source())
}

/// Like [`describe`] for an error that is not wrapped (the fast path's connect): its own
/// text comes first.
pub(super) fn describe_all(err: &(dyn std::error::Error + 'static)) -> String {
    describe_from(err, Some(err))
}

fn describe_from(
    err: &(dyn std::error::Error + 'static),
    first: Option<&(dyn std::error::Error + 'static)>,
) -> String {
    let mut parts: Vec<String> = Vec::new();
    let mut cause = first;
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
