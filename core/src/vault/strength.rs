//! Password strength feedback for the "create a vault" and "change password" screens. An
//! estimate, not a guarantee: guesses an attacker needs, from length, character variety,
//! repetition, runs and a list of the most common passwords — so the apps hold no such logic.

use zeroize::Zeroizing;

/// How strong a password looks.
#[derive(Debug, Clone, PartialEq)]
pub struct PasswordStrength {
    /// 0 (trivial) to 4 (strong).
    pub score: u8,
    /// log10 of the estimated guesses.
    pub guesses_log10: f64,
    /// Whether the apps should let it through without an explicit "use anyway".
    pub acceptable: bool,
    /// Short hints for the user, most important first.
    pub feedback: Vec<String>,
}

const COMMON: &[&str] = &[
    "password",
    "123456",
    "12345678",
    "123456789",
    "1234567890",
    "qwerty",
    "qwertyuiop",
    "abc123",
    "111111",
    "123123",
    "letmein",
    "welcome",
    "monkey",
    "dragon",
    "iloveyou",
    "admin",
    "passw0rd",
    "password1",
    "password123",
    "sunshine",
    "princess",
    "football",
    "baseball",
    "master",
    "shadow",
    "superman",
    "trustno1",
    "000000",
    "654321",
    "1q2w3e4r",
    "qwerty123",
    "zaq12wsx",
    "asdfghjkl",
    "secret",
    "changeme",
    "azerty",
    "hunter2",
    "correcthorsebatterystaple",
];

fn run_penalty(chars: &[char]) -> usize {
    // Characters that continue a repeat or an ascending/descending run add little.
    chars
        .windows(2)
        .filter(|w| {
            let (a, b) = (w[0] as i64, w[1] as i64);
            a == b || (b - a).abs() == 1
        })
        .count()
}

/// Estimates the strength of a password (UTF-8; other bytes count as one symbol each).
pub fn estimate(password: &[u8]) -> PasswordStrength {
    let text = Zeroizing::new(String::from_utf8_lossy(password).into_owned());
    let chars: Zeroizing<Vec<char>> = Zeroizing::new(text.chars().collect());
    let lower = Zeroizing::new(text.to_lowercase());
    let mut feedback = Vec::new();
    if chars.is_empty() {
        return PasswordStrength {
            score: 0,
            guesses_log10: 0.0,
            acceptable: false,
            feedback: vec!["Enter a password.".into()],
        };
    }
    let stripped: String = lower.chars().filter(|c| c.is_alphanumeric()).collect();
    let common = COMMON.iter().any(|c| {
        *c == lower.as_str()
            || *c == stripped
            || (stripped.len() >= 6 && stripped.starts_with(c) && stripped.len() <= c.len() + 4)
    });
    let mut pool = 0f64;
    if chars.iter().any(|c| c.is_ascii_lowercase()) {
        pool += 26.0;
    }
    if chars.iter().any(|c| c.is_ascii_uppercase()) {
        pool += 26.0;
    }
    if chars.iter().any(|c| c.is_ascii_digit()) {
        pool += 10.0;
    }
    if chars.iter().any(|c| c.is_ascii_punctuation() || *c == ' ') {
        pool += 33.0;
    }
    if chars.iter().any(|c| !c.is_ascii()) {
        pool += 100.0;
    }
    let distinct = {
        let mut d: Vec<char> = chars.to_vec();
        d.sort_unstable();
        d.dedup();
        d.len()
    };
    let effective = (chars.len() - run_penalty(&chars))
        .max(1)
        .min(distinct.max(1) * 3);
    let mut guesses_log10 = effective as f64 * pool.max(10.0).log10();
    if common {
        guesses_log10 = guesses_log10.min(2.0);
        feedback.push("This is one of the most common passwords.".to_owned());
    }
    if chars.len() < 8 {
        feedback.push(
            "Use at least 8 characters; a few unrelated words are easy to remember.".to_owned(),
        );
    } else if distinct <= 3 {
        feedback.push("Avoid repeating the same few characters.".to_owned());
    } else if run_penalty(&chars) * 2 >= chars.len() {
        feedback.push("Avoid sequences like 1234 or abcd.".to_owned());
    }
    let score = match guesses_log10 {
        g if g < 4.0 => 0,
        g if g < 7.0 => 1,
        g if g < 10.0 => 2,
        g if g < 13.0 => 3,
        _ => 4,
    };
    // Below 8 characters nothing counts as more than weak (NIST SP 800-63B's minimum).
    let score = if chars.len() < 8 { score.min(1) } else { score };
    if score < 3 && feedback.is_empty() {
        feedback.push("Longer is stronger: add another word.".to_owned());
    }
    PasswordStrength {
        score,
        guesses_log10,
        acceptable: score >= 2 && chars.len() >= 8,
        feedback,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scores_order_as_a_person_would_expect() {
        let s = |p: &str| estimate(p.as_bytes()).score;
        assert_eq!(s(""), 0);
        assert_eq!(s("password"), 0);
        assert_eq!(s("Password1!"), 0, "a common password with decorations");
        assert!(s("aaaaaaaaaaaa") <= 1);
        assert!(s("12345678901234") <= 1);
        assert!(s("k7#Qp") <= 1, "short");
        assert!(s("tulip-anchor-violet") >= 3);
        assert_eq!(s("glacier ferment 47 opal kettle"), 4);
        assert!(!estimate(b"short1").acceptable);
        assert!(estimate(b"tulip-anchor-violet").acceptable);
        assert!(estimate(b"password").feedback[0].contains("common"));
    }
}
