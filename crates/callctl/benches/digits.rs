//! Digit analysis over a 1000-pattern plan: 500 DNs, 400 national route patterns, 90 DID
//! translations and 10 others, all in one caller's search space. Measures one analysis (the
//! per-call cost), a whole `locate` (placement + analysis + trace), and loading the plan (each
//! pattern's closest-match count table is built at load).

use causeway_callctl::pattern::DialString;
use causeway_callctl::{Cluster, Origin, Trace};
use causeway_policy::{Address, SourceText};
use criterion::{black_box, criterion_group, criterion_main, Criterion};

fn plan_text() -> String {
    let mut t = String::from(
        "[callctl]\ncluster_fqdns = [\"cm.example\"]\n\
         [[callctl.partition]]\nname = \"Internal\"\n[[callctl.partition]]\nname = \"PSTN\"\n\
         [[callctl.partition]]\nname = \"Xlate\"\n[[callctl.partition]]\nname = \"Misc\"\n\
         [[callctl.css]]\nname = \"All\"\npartitions = [\"Xlate\", \"Internal\", \"PSTN\", \"Misc\"]\n",
    );
    for dn in 2000..2500 {
        t.push_str(&format!("[[callctl.line]]\ndn = \"{dn}\"\npartition = \"Internal\"\ncss = \"All\"\n"));
    }
    for area in 200..600 {
        t.push_str(&format!(
            "[[callctl.route_pattern]]\npattern = \"9.1{area}[2-9]XXXXXX\"\npartition = \"PSTN\"\nzone = \"pstn\"\ndiscard = \"predot\"\ncalled_prefix = \"+\"\n"
        ));
    }
    for block in 10..100 {
        t.push_str(&format!(
            "[[callctl.translation]]\npattern = \"\\\\+140855{block}XX\"\npartition = \"Xlate\"\ncss = \"All\"\ncalled_mask = \"2XXX\"\n"
        ));
    }
    for p in ["9011.!", "9011.!#", "911", "9.911", "*8X", "[^09]XX", "0", "00", "1[2-9]XX[2-9]XXXXXX", "8XXXXXX"] {
        t.push_str(&format!("[[callctl.route_pattern]]\npattern = \"{p}\"\npartition = \"Misc\"\nzone = \"pstn\"\n"));
    }
    t.push_str("[[callctl.device]]\nname = \"phone\"\nlines = [\"2000\"]\n");
    t
}

fn bench(c: &mut Criterion) {
    let text = plan_text();
    let src = SourceText::new("bench.toml", &text);
    let cluster = Cluster::from_toml_str(src, &["pstn"]).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(cluster.dial_plan().pattern_count(), 1000);
    let css = cluster.dial_plan().css_by_name("All").into_iter().collect::<Vec<_>>();
    let search = cluster.dial_plan().search_order(&css);

    let mut group = c.benchmark_group("digit_analysis_1000_patterns");
    for (name, dialed) in [("dn", "2345"), ("national", "914155550123"), ("did_translated", "+14085512345"), ("no_match", "3")] {
        let dialed = DialString::parse(dialed).unwrap_or_else(|| panic!("{dialed}"));
        group.bench_function(name, |b| {
            b.iter(|| {
                let mut trace = Trace::default();
                black_box(cluster.dial_plan().analyse_digits(&search, black_box(&dialed), Some("2000"), &mut trace))
            })
        });
    }
    group.finish();

    let origin = Origin::Device { device: "phone".into(), line: None };
    let called = Address::sip(Some("914155550123"), "cm.example");
    c.bench_function("locate_device_to_national_1000_patterns", |b| b.iter(|| black_box(cluster.locate(&origin, black_box(&called)))));

    c.bench_function("load_1000_pattern_plan", |b| {
        b.iter(|| black_box(Cluster::from_toml_str(SourceText::new("bench.toml", black_box(&text)), &["pstn"]).map(|c| c.dial_plan().pattern_count())))
    });
}

criterion_group!(benches, bench);
criterion_main!(benches);
