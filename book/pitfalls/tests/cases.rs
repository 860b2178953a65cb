//! Every case fails exactly the way the book says, checked all at once.

#[test]
fn every_case_fails_as_stated() {
    let mut problems = Vec::new();
    for (case, result) in pitfalls::check_all() {
        match result {
            Ok(report) => {
                if let Some(why) = report.mismatch {
                    problems.push(format!(
                        "case `{}` did not fail as expected: {why}",
                        case.name
                    ));
                }
            }
            Err(harness) => problems.push(format!(
                "case `{}` could not be checked: {harness}",
                case.name
            )),
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n\n"));
}
