//! Field definitions: a field's name, type and validation settings.

use serde::{Deserialize, Serialize};

use crate::value::Number;

/// The type of a customer field, as a CRM form offers it.
///
/// Each type stores one [`ValueKind`](crate::ValueKind): texts for `text`, `long_text`,
/// `single_choice`, `phone`, `email` and `member`; numbers for `number`, `integer` and
/// `rating`; lists for `multiple_choice` and `tags`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum FieldType {
    /// A single line of text.
    Text,
    /// A multi-line text (notes, feedback).
    LongText,
    /// A decimal or integer number.
    Number,
    /// An integer number.
    Integer,
    /// True or false.
    Bool,
    /// A calendar date, `YYYY-MM-DD` in JSON.
    Date,
    /// An instant, RFC 3339 in JSON, held in UTC.
    DateTime,
    /// One value from the field's `options`.
    SingleChoice,
    /// Several values from the field's `options`.
    MultipleChoice,
    /// Free tags.
    Tags,
    /// A phone number: digits only, 11 by default (`phone_digits`).
    Phone,
    /// An e-mail address.
    Email,
    /// A user id: an owner, a manager.
    Member,
    /// An integer rating from 1 to 5.
    Rating,
}

/// The kind of value a field type stores.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ValueKind {
    /// [`Value::Text`](crate::Value::Text).
    Text,
    /// [`Value::Number`](crate::Value::Number), any finite number.
    Number,
    /// [`Value::Number`](crate::Value::Number) holding an integer.
    Integer,
    /// [`Value::Bool`](crate::Value::Bool).
    Bool,
    /// [`Value::Date`](crate::Value::Date).
    Date,
    /// [`Value::DateTime`](crate::Value::DateTime).
    DateTime,
    /// [`Value::List`](crate::Value::List).
    List,
}

impl FieldType {
    /// The kind of value the type stores.
    pub fn kind(self) -> ValueKind {
        match self {
            FieldType::Text
            | FieldType::LongText
            | FieldType::SingleChoice
            | FieldType::Phone
            | FieldType::Email
            | FieldType::Member => ValueKind::Text,
            FieldType::Number => ValueKind::Number,
            FieldType::Integer | FieldType::Rating => ValueKind::Integer,
            FieldType::Bool => ValueKind::Bool,
            FieldType::Date => ValueKind::Date,
            FieldType::DateTime => ValueKind::DateTime,
            FieldType::MultipleChoice | FieldType::Tags => ValueKind::List,
        }
    }

    /// Whether values must come from the field's `options`.
    pub fn has_options(self) -> bool {
        matches!(self, FieldType::SingleChoice | FieldType::MultipleChoice)
    }

    /// The name rule files use for the type (`"single_choice"`).
    pub fn name(self) -> &'static str {
        match self {
            FieldType::Text => "text",
            FieldType::LongText => "long_text",
            FieldType::Number => "number",
            FieldType::Integer => "integer",
            FieldType::Bool => "bool",
            FieldType::Date => "date",
            FieldType::DateTime => "date_time",
            FieldType::SingleChoice => "single_choice",
            FieldType::MultipleChoice => "multiple_choice",
            FieldType::Tags => "tags",
            FieldType::Phone => "phone",
            FieldType::Email => "email",
            FieldType::Member => "member",
            FieldType::Rating => "rating",
        }
    }
}

/// The default length of a phone number, in digits (mainland China mobile numbers).
pub const DEFAULT_PHONE_DIGITS: u8 = 11;

/// A customer field: its name, type, and how values are checked and shown.
///
/// In JSON: `{"name": "手机号", "type": "phone", "required": true, "sensitive": true}`.
/// Unknown keys are errors. Build one in Rust with the constructors and setters:
///
/// ```
/// use crm_rules::{Field, FieldType};
/// let status = Field::new("客户状态", FieldType::SingleChoice)
///     .options(["新客户", "意向客户", "成交客户"])
///     .required();
/// assert_eq!(status.options.len(), 3);
/// ```
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Field {
    /// The name rules and records use; unique within the schema.
    pub name: String,
    /// The type.
    #[serde(rename = "type")]
    pub field_type: FieldType,
    /// A label to show instead of the name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub label: Option<String>,
    /// A record without a value is invalid.
    #[serde(default, skip_serializing_if = "is_false")]
    pub required: bool,
    /// Values are masked (`138****5678`, `l***@example.com`) wherever the crate shows them.
    #[serde(default, skip_serializing_if = "is_false")]
    pub sensitive: bool,
    /// The allowed values of a single or multiple choice field, in display order.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub options: Vec<String>,
    /// The smallest allowed number.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min: Option<Number>,
    /// The largest allowed number.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max: Option<Number>,
    /// The fewest characters a text may have.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min_length: Option<u32>,
    /// The most characters a text may have.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_length: Option<u32>,
    /// A date or date-time must not be before today (in UTC) when validated.
    #[serde(default, skip_serializing_if = "is_false")]
    pub not_before_today: bool,
    /// How many digits a phone number has (11 when not given).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub phone_digits: Option<u8>,
}

fn is_false(b: &bool) -> bool {
    !*b
}

impl Field {
    /// A field with a name and a type, optional, not sensitive, with no validation.
    pub fn new(name: impl Into<String>, field_type: FieldType) -> Field {
        Field {
            name: name.into(),
            field_type,
            label: None,
            required: false,
            sensitive: false,
            options: Vec::new(),
            min: None,
            max: None,
            min_length: None,
            max_length: None,
            not_before_today: false,
            phone_digits: None,
        }
    }

    /// Sets the display label.
    pub fn label(mut self, label: impl Into<String>) -> Field {
        self.label = Some(label.into());
        self
    }

    /// Makes the field required.
    pub fn required(mut self) -> Field {
        self.required = true;
        self
    }

    /// Masks the field's values wherever the crate shows them.
    pub fn sensitive(mut self) -> Field {
        self.sensitive = true;
        self
    }

    /// Sets the options of a choice field.
    pub fn options<I, S>(mut self, options: I) -> Field
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.options = options.into_iter().map(Into::into).collect();
        self
    }

    /// Sets the smallest and largest allowed numbers.
    pub fn range(mut self, min: Option<Number>, max: Option<Number>) -> Field {
        self.min = min;
        self.max = max;
        self
    }

    /// Sets the fewest and most characters of a text.
    pub fn length(mut self, min: Option<u32>, max: Option<u32>) -> Field {
        self.min_length = min;
        self.max_length = max;
        self
    }

    /// Requires dates not before today.
    pub fn not_before_today(mut self) -> Field {
        self.not_before_today = true;
        self
    }

    /// Sets how many digits a phone number has.
    pub fn phone_digits(mut self, digits: u8) -> Field {
        self.phone_digits = Some(digits);
        self
    }
}

/// An event kind the host sends, with the attributes it carries.
///
/// Declaring events is optional. When a schema declares any, rules are checked against
/// them: an unknown event kind or attribute, or a literal of the wrong type or outside an
/// attribute's options (`source = 展会` when the options say `展会活动`), is a build error.
///
/// ```
/// use crm_rules::{EventDef, Field, FieldType};
/// let lead = EventDef::new("lead_created")
///     .attribute(Field::new("source", FieldType::SingleChoice).options(["展会", "官网表单"]));
/// assert_eq!(lead.attributes.len(), 1);
/// ```
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EventDef {
    /// The event kind (`lead_created`, `order_placed`).
    pub kind: String,
    /// A label to show instead of the kind.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub label: Option<String>,
    /// The attributes the event carries.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub attributes: Vec<Field>,
}

impl EventDef {
    /// An event kind with no attributes.
    pub fn new(kind: impl Into<String>) -> EventDef {
        EventDef {
            kind: kind.into(),
            label: None,
            attributes: Vec::new(),
        }
    }

    /// Adds an attribute.
    pub fn attribute(mut self, attribute: Field) -> EventDef {
        self.attributes.push(attribute);
        self
    }
}
