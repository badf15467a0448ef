//! `syntax-error`: Python that does not parse (or a file that is not UTF-8).

use super::{Context, Sink};
use crate::diagnostic::TextRange;

crate::rule_meta!("syntax-error", Error, "Python cannot parse this file");

pub fn check(ctx: &Context, sink: &mut Sink) {
    for (m, module) in ctx.modules() {
        if let Some(at) = module.encoding_error {
            // The bad byte was decoded as U+FFFD; cover that whole character.
            let len = module.text.get(at..).and_then(|s| s.chars().next()).map_or(0, char::len_utf8);
            sink.report(
                ctx,
                m,
                TextRange::new(at, at + len),
                "the file is not valid UTF-8; Python refuses to import it (save it as UTF-8)",
            );
        }
        for e in &module.parsed.syntax_errors {
            sink.report(ctx, m, e.range, format!("{}; Python cannot import this module", e.message));
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::rules::test_support::*;

    #[test]
    fn broken_code_is_reported_and_the_rest_still_checked() {
        let out = check_fixture("syntax-error", include_str!("fixtures/syntax-error/error.py"));
        insta::assert_snapshot!(out);
    }
}
