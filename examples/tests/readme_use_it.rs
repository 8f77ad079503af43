//! The README's "Use it" section is the new-user crate (`examples/new-user`), which
//! scripts/test builds and runs: its Rust block is that crate's `src/main.rs`, and its
//! `Cargo.toml` block that crate's dependencies with the published versions in place of the
//! paths. A change to either side without the other fails here, so the README cannot rot.

use std::fs;
use std::path::{Path, PathBuf};

fn repository() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("examples/ sits in the repository")
        .to_path_buf()
}

fn read(path: &str) -> String {
    let path = repository().join(path);
    fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// The README's "Use it" section, up to the next section of the same level.
fn use_it_section(readme: &str) -> &str {
    let start = readme
        .find("\n## Use it\n")
        .expect("the README has a \"## Use it\" section");
    let rest = &readme[start + 1..];
    let end = rest[3..].find("\n## ").map_or(rest.len(), |end| end + 3);
    &rest[..end]
}

/// The body of the first fenced block of `language` in `text`.
fn fenced<'a>(text: &'a str, language: &str) -> &'a str {
    let open = format!("```{language}\n");
    let start = text
        .find(&open)
        .unwrap_or_else(|| panic!("no ```{language} block in the \"Use it\" section"))
        + open.len();
    let end = text[start..]
        .find("```\n")
        .expect("an unclosed fenced block");
    &text[start..start + end]
}

/// `[dependencies]` of the new-user crate as a user of the published crates writes it:
/// `path = "..."` becomes this workspace's `version = "MAJOR.MINOR"`, and a table left with
/// the version alone becomes the plain version string.
fn published_dependencies(manifest: &str) -> String {
    let version = env!("CARGO_PKG_VERSION")
        .rsplit_once('.')
        .expect("a MAJOR.MINOR.PATCH version")
        .0;
    let start = manifest
        .find("[dependencies]\n")
        .expect("the new-user crate has dependencies");
    let section = &manifest[start..];
    let end = section[1..]
        .find("\n[")
        .map_or(section.len(), |end| end + 2);
    let mut out = String::new();
    for line in section[..end].lines() {
        let line = match (line.find("path = \""), line.find(" }")) {
            (Some(path), Some(_)) => {
                let close = line[path + 8..].find('"').expect("a closed path string") + path + 9;
                let table = format!("{}version = \"{version}\"{}", &line[..path], &line[close..]);
                let plain = format!("{{ version = \"{version}\" }}");
                table.replace(&plain, &format!("\"{version}\""))
            }
            _ => line.to_string(),
        };
        out.push_str(&line);
        out.push('\n');
    }
    out.trim_end().to_string() + "\n"
}

#[test]
fn the_readme_program_is_the_new_user_crates_main() {
    let readme = read("README.md");
    let section = use_it_section(&readme);
    assert_eq!(
        fenced(section, "rust"),
        read("examples/new-user/src/main.rs"),
        "the README's \"Use it\" program differs from examples/new-user/src/main.rs"
    );
}

#[test]
fn the_readme_dependencies_are_the_new_user_crates_at_published_versions() {
    let readme = read("README.md");
    let section = use_it_section(&readme);
    assert_eq!(
        fenced(section, "toml"),
        published_dependencies(&read("examples/new-user/Cargo.toml")),
        "the README's \"Use it\" Cargo.toml lines differ from examples/new-user/Cargo.toml"
    );
}

#[test]
fn paths_become_published_versions() {
    let manifest = "[package]\nname = \"x\"\n\n[dependencies]\n\
                    a = { path = \"../a\" }\n\
                    b = { path = \"../b\", features = [\"f\"] }\n\
                    c = \"1\"\n\n[workspace]\n";
    let version = env!("CARGO_PKG_VERSION").rsplit_once('.').unwrap().0;
    assert_eq!(
        published_dependencies(manifest),
        format!(
            "[dependencies]\na = \"{version}\"\n\
             b = {{ version = \"{version}\", features = [\"f\"] }}\nc = \"1\"\n"
        )
    );
}
