use super::write::activity_sentence;
use super::*;

#[test]
fn the_activity_sentence_says_one_of_each_in_the_singular() {
    let a = crate::funnel::Activity {
        clicks: 2,
        visits: 1,
        lead_magnet: 0,
        cta: 1,
        activation: 3,
    };
    assert_eq!(
        activity_sentence(&a),
        "In the same days, counting people who arrived earlier too: 2 link clicks, 1 page \
             visit, 0 lead magnets, 1 next step, 3 activations."
    );
}

#[test]
fn markdown_text_from_the_data_cannot_become_markup() {
    assert_eq!(
        md("a|b <i>`x`</i>\n*y*"),
        "a\\|b \\<i\\>\\`x\\`\\</i\\> \\*y\\*"
    );
    assert_eq!(
        md("[a](http://x) [b][c] [d]: e"),
        "[a\\](http://x) [b\\][c] [d\\]: e"
    );
    assert_eq!(md("27.1% [21.9–33%]"), "27.1% [21.9–33%]");
}
