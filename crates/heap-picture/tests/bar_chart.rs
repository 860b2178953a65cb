mod common;

use common::check_picture;
use heap_picture::{BarGroup, bar_chart};

fn groups() -> Vec<BarGroup> {
    vec![
        BarGroup {
            label: "first fit".into(),
            values: vec![0.25, 0.75],
        },
        BarGroup {
            label: "best fit <&>".into(),
            values: vec![0.5, f64::NAN],
        },
    ]
}

#[test]
fn one_bar_per_finite_value_with_its_data() {
    let svg = bar_chart("Fragmentation", &["ratio", "largest"], &groups(), "");
    let root = check_picture(&svg);
    assert_eq!(root.title(), Some("Fragmentation"));
    let bars = root.with_class("bar");
    assert_eq!(bars.len(), 3, "the NaN value gets no bar");
    let names: Vec<(&str, &str, &str)> = bars
        .iter()
        .map(|b| {
            (
                b.attr("data-group").unwrap(),
                b.attr("data-series").unwrap(),
                b.attr("data-value").unwrap(),
            )
        })
        .collect();
    assert_eq!(
        names,
        [
            ("first fit", "ratio", "0.25"),
            ("first fit", "largest", "0.75"),
            ("best fit <&>", "ratio", "0.5"),
        ]
    );
    // Lengths are proportional to the values and start at the same zero.
    let x0 = bars[0].num("x");
    assert!(bars.iter().all(|b| b.num("x") == x0));
    let ratio = bars[2].num("width") / bars[0].num("width");
    assert!((ratio - 2.0).abs() < 0.01, "0.5 is twice 0.25, got {ratio}");
    assert!(bars[1].num("width") > bars[2].num("width"));
    // Every bar says what it is on hover, with the label escaped in the source.
    assert_eq!(bars[2].title(), Some("best fit <&>, ratio: 0.5"));
    assert!(svg.contains("best fit &lt;&amp;&gt;"));
    assert!(
        root.all_text().contains('—'),
        "the missing value is shown as —"
    );
}

#[test]
fn byte_values_read_in_binary_units() {
    let groups = [BarGroup {
        label: "heap".into(),
        values: vec![3.0 * 1024.0 * 1024.0],
    }];
    let root = check_picture(&bar_chart("Sizes", &["live"], &groups, "bytes"));
    let text = root.all_text();
    assert!(text.contains("3 MiB"), "{text}");
    assert!(text.contains("bytes"), "the axis names its unit: {text}");
    let bar = root.with_class("bar")[0];
    assert_eq!(bar.title(), Some("heap, live: 3 MiB"));
}

#[test]
fn negative_values_extend_left_of_zero() {
    let groups = [BarGroup {
        label: "change".into(),
        values: vec![-2.0, 1.0],
    }];
    let root = check_picture(&bar_chart("Change", &["a", "b"], &groups, "%"));
    let bars = root.with_class("bar");
    let (neg, pos) = (bars[0], bars[1]);
    assert!(neg.num("x") + neg.num("width") <= pos.num("x") + 0.01);
    assert!((neg.num("width") / pos.num("width") - 2.0).abs() < 0.01);
}

#[test]
fn no_groups_says_there_is_nothing() {
    let root = check_picture(&bar_chart("Empty", &["a"], &[], "B"));
    assert!(root.with_class("bar").is_empty());
    assert!(root.all_text().contains("No data"), "{}", root.all_text());
}
