//! Test double of the org gateway (filled in next).
