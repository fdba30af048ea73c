//! The outer fields of a `Debug` text, found again cheaply after a small change.
//!
//! A state's text is cut into pieces that each end after a `,` or a bracket at most one bracket
//! deep, so that `Node { term: 3, log: [...] }` is `Node {`, ` term: 3,`, ` log: [...]`, ` }`,
//! however long the log. A handler changes a few bytes of a text of kilobytes, so the cuts of
//! the new text are those of the old one before the first byte that differs, and (shifted)
//! after the point where the two scans meet again in the common tail: only the stretch between
//! is scanned.

/// Where a piece ends, in bytes, and the bracket depth of the scan there.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) struct Cut {
    pub at: usize,
    depth: u32,
}

/// The cuts of `text`, from scratch.
#[cfg(test)]
pub(super) fn cuts(text: &str) -> Vec<Cut> {
    let mut out = Vec::new();
    scan(text.as_bytes(), 0, 0, None, &mut out);
    out
}

/// The cuts of `new`, given `old` and its cuts: those of `old` before the first byte that
/// differs, a scan from there, and `old`'s again (shifted) once the scan is at one of them
/// with the same depth inside the common tail.
pub(super) fn cuts_after_change(old: &str, old_cuts: &[Cut], new: &str) -> Vec<Cut> {
    let (prefix, suffix) = (
        common_prefix(old.as_bytes(), new.as_bytes()),
        common_suffix(old.as_bytes(), new.as_bytes()),
    );
    // A cut strictly before the first difference was decided by bytes both texts share.
    let kept = old_cuts.partition_point(|c| c.at < prefix);
    let mut out = old_cuts[..kept].to_vec();
    let (from, depth) = out.last().map_or((0, 0), |c| (c.at, c.depth));
    let tail = Tail {
        old_cuts,
        new_start: new.len() - suffix,
        shift: new.len() as isize - old.len() as isize,
    };
    scan(new.as_bytes(), from, depth, Some(&tail), &mut out);
    out
}

/// `text` cut at `cuts`.
pub(super) fn pieces<'t>(text: &'t str, cuts: &[Cut]) -> Vec<&'t str> {
    let mut start = 0;
    cuts.iter()
        .map(|c| {
            let piece = &text[start..c.at];
            start = c.at;
            piece
        })
        .collect()
}

/// The old text's cuts and where its tail, shared with the new text, starts in the new one.
struct Tail<'c> {
    old_cuts: &'c [Cut],
    new_start: usize,
    /// New position minus old position of the same tail byte.
    shift: isize,
}

impl Tail<'_> {
    /// The old cuts from the one matching `cut` on, shifted into the new text, if the scan of
    /// the new text has met the old one's there.
    fn rest(&self, cut: Cut) -> Option<impl Iterator<Item = Cut> + '_> {
        if cut.at < self.new_start {
            return None;
        }
        let old_at = usize::try_from(cut.at as isize - self.shift).ok()?;
        let i = self.old_cuts.binary_search_by_key(&old_at, |c| c.at).ok()?;
        (self.old_cuts[i].depth == cut.depth).then(|| {
            self.old_cuts[i + 1..].iter().map(|c| Cut {
                at: (c.at as isize + self.shift) as usize,
                depth: c.depth,
            })
        })
    }
}

/// Scans `bytes` from `from` (a cut, or 0) at bracket depth `depth`, pushing cuts; with a
/// tail, stops at the first cut where the old text's cuts can be taken over. The marks are
/// ASCII and no byte of a multi-byte UTF-8 character is, so every cut is a character boundary.
fn scan(bytes: &[u8], from: usize, depth: u32, tail: Option<&Tail<'_>>, out: &mut Vec<Cut>) {
    let (mut start, mut depth) = (from, depth);
    let push = |out: &mut Vec<Cut>, cut: Cut| -> bool {
        out.push(cut);
        match tail.and_then(|t| t.rest(cut)) {
            Some(rest) => {
                out.extend(rest);
                true
            }
            None => false,
        }
    };
    for (i, &byte) in bytes.iter().enumerate().skip(from) {
        match byte {
            b'{' | b'[' | b'(' => {
                depth += 1;
                if depth == 1 {
                    start = i + 1;
                    if push(out, Cut { at: start, depth }) {
                        return;
                    }
                }
            }
            b'}' | b']' | b')' => {
                // The depth a scan resuming at `i` would start with: before this bracket.
                let before = depth;
                depth = depth.saturating_sub(1);
                if depth == 0 {
                    if start < i
                        && push(
                            out,
                            Cut {
                                at: i,
                                depth: before,
                            },
                        )
                    {
                        return;
                    }
                    start = i + 1;
                    if push(out, Cut { at: start, depth }) {
                        return;
                    }
                }
            }
            b',' if depth <= 1 => {
                start = i + 1;
                if push(out, Cut { at: start, depth }) {
                    return;
                }
            }
            _ => {}
        }
    }
    if start < bytes.len() {
        out.push(Cut {
            at: bytes.len(),
            depth,
        });
    }
}

/// How many bytes `a` and `b` share at their start; slices of 64 bytes compare as a whole.
pub(super) fn common_prefix(a: &[u8], b: &[u8]) -> usize {
    const CHUNK: usize = 64;
    let mut at = 0;
    let n = a.len().min(b.len());
    while at + CHUNK <= n && a[at..at + CHUNK] == b[at..at + CHUNK] {
        at += CHUNK;
    }
    at + a[at..n]
        .iter()
        .zip(&b[at..n])
        .take_while(|(x, y)| x == y)
        .count()
}

/// How many bytes `a` and `b` share at their end.
pub(super) fn common_suffix(a: &[u8], b: &[u8]) -> usize {
    const CHUNK: usize = 64;
    let mut n = 0;
    let limit = a.len().min(b.len());
    while n + CHUNK <= limit
        && a[a.len() - n - CHUNK..a.len() - n] == b[b.len() - n - CHUNK..b.len() - n]
    {
        n += CHUNK;
    }
    n + a[..a.len() - n]
        .iter()
        .rev()
        .zip(b[..b.len() - n].iter().rev())
        .take_while(|(x, y)| x == y)
        .count()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cuts_fall_after_outer_commas_and_brackets() {
        let text = "Node { term: 3, log: [a, b], x: (1, 2) }";
        let c = cuts(text);
        assert_eq!(
            pieces(text, &c),
            ["Node {", " term: 3,", " log: [a, b],", " x: (1, 2) ", "}"]
        );
    }

    #[test]
    fn cuts_after_a_change_equal_cuts_from_scratch() {
        let base = format!(
            "Node {{ term: 3, log: [{}], commit: 7, x: {{ y: 1 }} }}",
            "e, ".repeat(50)
        );
        let variants = [
            base.replace("term: 3", "term: 40"),
            base.replace("commit: 7", "commit: 8, extra: [1, 2]"),
            base.replace("e, e, ", "e, (f, g), "),
            base.replace("log: [", "log: [[z], "),
            base.replace("x: { y: 1 }", "x: None"),
            base.replace("Node {", "Node { a: {{}},"),
            "é→ { x: [1] }".to_string(),
            String::new(),
            base.clone(),
            format!("{base}, trailing"),
            base[..40].to_string(),
        ];
        for old in std::iter::once(&base).chain(&variants) {
            for new in std::iter::once(&base).chain(&variants) {
                let old_cuts = cuts(old);
                assert_eq!(
                    cuts_after_change(old, &old_cuts, new),
                    cuts(new),
                    "{old:?} → {new:?}"
                );
            }
        }
    }

    #[test]
    fn common_ends_count_whole_and_partial_chunks() {
        let a = "x".repeat(200) + "A" + &"y".repeat(130);
        let b = "x".repeat(200) + "BB" + &"y".repeat(130);
        assert_eq!(common_prefix(a.as_bytes(), b.as_bytes()), 200);
        assert_eq!(common_suffix(a.as_bytes(), b.as_bytes()), 130);
        assert_eq!(common_prefix(b"abc", b"abc"), 3);
        assert_eq!(common_suffix(b"", b"abc"), 0);
    }
}
