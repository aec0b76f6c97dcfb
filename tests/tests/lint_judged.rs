//! The hand-judged sample (tests/lint_judged.tsv): findings of the offline
//! linter over the corpus, each judged a true or a false positive by
//! reading its file. The linter must keep every true finding and report
//! at most 2% false positives of the sample it still reports.

use confiture_e2e::{confiture_bin, corpus_dir};
use std::collections::HashSet;
use std::process::Command;

struct Judged {
    file: String,
    line: Option<u64>,
    rule: String,
    true_positive: bool,
    reason: String,
}

fn sample() -> Vec<Judged> {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/lint_judged.tsv");
    let text = std::fs::read_to_string(path).expect("tests/lint_judged.tsv");
    text.lines()
        .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
        .map(|l| {
            let f: Vec<&str> = l.split('\t').collect();
            assert_eq!(f.len(), 5, "five tab-separated fields: {l}");
            assert!(
                matches!(f[3], "tp" | "fp"),
                "verdict is tp or fp, not {:?}",
                f[3]
            );
            Judged {
                file: f[0].into(),
                line: (f[1] != "*").then(|| f[1].parse().expect("line number or *")),
                rule: f[2].into(),
                true_positive: f[3] == "tp",
                reason: f[4].into(),
            }
        })
        .collect()
}

#[test]
fn judged_sample_keeps_true_findings_and_few_false_positives() {
    let sample = sample();
    assert!(
        sample.len() >= 150,
        "the sample holds at least 150 findings"
    );
    let corpus = corpus_dir().canonicalize().expect("the corpus");
    let out = Command::new(confiture_bin())
        .args(["lint", "--format", "json", "--fail-on", "never"])
        .arg(corpus.join("lemmy"))
        .output()
        .expect("run confiture lint");
    assert!(
        out.status.success(),
        "confiture lint: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json report");
    let root = format!("{}/", corpus.display());
    let mut exact = HashSet::new();
    let mut by_file = HashSet::new();
    for f in report["findings"].as_array().expect("findings") {
        let file = f["file"].as_str().unwrap_or_default();
        let file = file.strip_prefix(&root).unwrap_or(file).to_string();
        let rule = f["rule"].as_str().unwrap_or_default().to_string();
        let line = f["line"].as_u64().unwrap_or(0);
        exact.insert((file.clone(), line, rule.clone()));
        by_file.insert((file, rule));
    }
    let reported = |j: &Judged| match j.line {
        Some(line) => exact.contains(&(j.file.clone(), line, j.rule.clone())),
        None => by_file.contains(&(j.file.clone(), j.rule.clone())),
    };
    let lost: Vec<String> = sample
        .iter()
        .filter(|j| j.true_positive && !reported(j))
        .map(|j| {
            format!(
                "{}:{} {} ({})",
                j.file,
                j.line.map_or("*".into(), |l| l.to_string()),
                j.rule,
                j.reason
            )
        })
        .collect();
    let still: Vec<&Judged> = sample.iter().filter(|j| reported(j)).collect();
    let false_positives: Vec<String> = still
        .iter()
        .filter(|j| !j.true_positive)
        .map(|j| {
            format!(
                "{}:{} {} ({})",
                j.file,
                j.line.map_or("*".into(), |l| l.to_string()),
                j.rule,
                j.reason
            )
        })
        .collect();
    let rate = false_positives.len() as f64 / still.len().max(1) as f64;
    println!(
        "judged sample: {} findings, {} still reported, {} false positives among them ({:.1}%)",
        sample.len(),
        still.len(),
        false_positives.len(),
        rate * 100.0
    );
    assert!(
        lost.is_empty(),
        "true findings the linter no longer reports:\n{}",
        lost.join("\n")
    );
    assert!(
        rate <= 0.02,
        "false positives {:.1}% of the reported sample (goal <= 2%):\n{}",
        rate * 100.0,
        false_positives.join("\n")
    );
}
