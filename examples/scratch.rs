use crm_rules::*;
fn main() {
    for s in [
        r#"{"type":"create_task","title":"x","due_in":"3d"}"#,
        r#"{"type":"create_task","title":"x","bogus":1}"#,
        r#"{"type":"set_field","field":"x","value":1,"bogus":2}"#,
        r#"{"type":"notify","channel":{"custom":"wechat"},"to":["owner",{"role":"经理"}],"template":"hi"}"#,
        r#"{"type":"assign_owner","strategy":{"type":"table","field":"区域","map":{"华东":"王"},"default":"李"}}"#,
    ] {
        println!("{:?}", serde_json::from_str::<Action>(s).map(|a| serde_json::to_string(&a).unwrap()));
    }
    for s in [r#"{"type":"schedule","every":"week","days":["Mon","thu"],"at":"09:00"}"#, r#"{"type":"event","event":"x","bogus":1}"#] {
        println!("{:?}", serde_json::from_str::<Trigger>(s).map(|a| serde_json::to_string(&a).unwrap()));
    }
    for s in [r#"{"all":[{"field":"a","op":"eq","value":1}], "op":"eq"}"#, r#"{"field":"a","event":"b","op":"eq"}"#, r#"{"field":"a","op":"eqq"}"#, r#"{"field":"a","op":"eq","valu":1}"#] {
        println!("{:?}", serde_json::from_str::<Condition>(s));
    }
}
