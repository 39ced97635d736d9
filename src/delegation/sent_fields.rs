//! Reading a page's form as it was sent, for the forms that come back with
//! their values kept and the first problem beside its field: "Allow support
//! access" (`consent_screen::allow_form`) and the console's "Ask for access"
//! (`console::ask_form`). `F` names the form's fields.

use crate::web::form::OAuthForm;

pub struct SentFields<'a, F> {
    form: &'a OAuthForm,
    /// What a field sent twice is told ("This was sent twice: choose once.").
    twice: &'static str,
    /// The first problem, and the field it is about.
    pub error: Option<(F, String)>,
}

impl<'a, F> SentFields<'a, F> {
    pub fn new(form: &'a OAuthForm, twice: &'static str) -> Self {
        Self {
            form,
            twice,
            error: None,
        }
    }

    /// A single field, trimmed; sent twice, it reads empty and the problem is noted at `field`.
    pub fn one(&mut self, name: &str, field: F) -> String {
        match self.form.single(name) {
            Ok(value) => value.unwrap_or_default().trim().to_string(),
            Err(_) => {
                self.note(field, self.twice);
                String::new()
            }
        }
    }

    /// A duration from a select, in seconds; anything else is `None`, the problem noted at `field`.
    pub fn seconds(&mut self, value: &str, field: F) -> Option<i64> {
        let seconds = value.parse::<i64>().ok();
        if seconds.is_none() {
            self.note(field, "Choose for how long from the list.");
        }
        seconds
    }

    /// A repeated field's words (`OAuthForm::words`).
    pub fn words(&self, name: &str) -> Vec<String> {
        self.form.words(name)
    }

    fn note(&mut self, field: F, message: &str) {
        self.error.get_or_insert((field, message.to_string()));
    }
}
