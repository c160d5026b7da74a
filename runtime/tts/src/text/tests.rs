use super::*;

fn t(s: &str) -> Speech {
    Speech::Text(s.to_string())
}

#[test]
fn the_issue_examples() {
    assert_eq!(
        render_text(Lang::Zh, &[Speech::Money(32050)]),
        "三百二十元五角"
    );
    assert_eq!(render_text(Lang::Zh, &[Speech::Money(100_000)]), "一千元");
    assert_eq!(
        render_text(Lang::Zh, &[Speech::Number(1502)]),
        "一千五百零二"
    );
    assert_eq!(
        render_text(Lang::Zh, &[Speech::Digits("101".into())]),
        "幺零幺"
    );
    assert_eq!(
        render_text(Lang::Zh, &[Speech::Date("2026-11-27".into())]),
        "二零二六年十一月二十七日"
    );
    assert_eq!(
        render_text(Lang::Zh, &[Speech::Number(10010)]),
        "一万零一十"
    );
    assert_eq!(render_text(Lang::Zh, &[Speech::Number(100_000)]), "十万");
    assert_eq!(render_text(Lang::Zh, &[Speech::Number(0)]), "零");
    assert_eq!(render_text(Lang::Zh, &[Speech::Number(-7)]), "负七");
    assert_eq!(
        render_text(Lang::En, &[Speech::Money(32050)]),
        "three hundred and twenty yuan fifty fen"
    );
}

#[test]
fn a_realistic_arrears_prompt() {
    let parts = [
        Speech::Prompt {
            key: "greeting".into(),
            fallback: "您好，欢迎致电物业服务中心。".into(),
        },
        Speech::Pause(300),
        t("您的房屋"),
        Speech::Digits("3-1502".into()),
        t("室截至"),
        Speech::Date("2026-11-27".into()),
        t("欠费"),
        Speech::Money(32050),
        t("。"),
    ];
    assert_eq!(
        render_text(Lang::Zh, &parts),
        "您好，欢迎致电物业服务中心。您的房屋三，幺五零二室截至二零二六年十一月二十七日欠费三百二十元五角。"
    );
    let pieces = plan(Lang::Zh, &parts);
    assert_eq!(pieces.len(), 3, "{pieces:?}");
    assert!(matches!(&pieces[0], Piece::Recording { key, .. } if key == "greeting"));
    assert_eq!(pieces[1], Piece::Silence(300));
    assert!(
        matches!(&pieces[2], Piece::Say(s) if s.starts_with("您的房屋") && s.ends_with("五角。"))
    );
}

#[test]
fn english_prompt_joins_words_with_spaces() {
    let parts = [
        t("Your balance is"),
        Speech::Money(100_050),
        t("due on"),
        Speech::Date("2026-12-01".into()),
        t("."),
    ];
    assert_eq!(
        render_text(Lang::En, &parts),
        "Your balance is one thousand yuan fifty fen due on December first, twenty twenty-six."
    );
}

#[test]
fn pauses_render_as_one_separator() {
    assert_eq!(
        render_text(Lang::Zh, &[t("请按一"), Speech::Pause(500), t("或按二")]),
        "请按一，或按二"
    );
    assert_eq!(
        render_text(Lang::Zh, &[t("请稍候。"), Speech::Pause(500), t("谢谢")]),
        "请稍候。谢谢"
    );
    assert_eq!(
        render_text(Lang::En, &[t("Press one"), Speech::Pause(500), t("or two")]),
        "Press one, or two"
    );
    assert_eq!(
        render_text(Lang::Zh, &[Speech::Pause(500), t("开始")]),
        "开始"
    );
    assert_eq!(plan(Lang::Zh, &[Speech::Pause(0)]), vec![]);
}

#[test]
fn digit_strings() {
    let zh = |s: &str| digits(Lang::Zh, s);
    assert_eq!(zh("13800138000"), "幺三八零零幺三八零零零");
    assert_eq!(zh("138 0013 8000"), "幺三八，零零幺三，八零零零");
    assert_eq!(zh("WO-20261127-0001"), "W O，二零二六幺幺二七，零零零幺");
    assert_eq!(zh("０１２"), "零幺二");
    assert_eq!(zh("8#"), "八井号");
    assert_eq!(zh("*"), "星号");
    assert_eq!(zh(""), "");
    let en = |s: &str| digits(Lang::En, s);
    assert_eq!(en("101"), "one zero one");
    assert_eq!(en("WO-0007"), "W O, zero zero zero seven");
    assert_eq!(en("+86"), "plus eight six");
}

#[test]
fn dates_with_times_and_bad_dates() {
    let zh = |s: &str| date(Lang::Zh, s);
    assert_eq!(
        zh("2026-11-27T14:30"),
        "二零二六年十一月二十七日十四点三十分"
    );
    assert_eq!(
        zh("2026-11-27 09:05:00"),
        "二零二六年十一月二十七日九点零五分"
    );
    assert_eq!(zh("2026/2/8"), "二零二六年二月八日");
    assert_eq!(zh("2026-11"), "二零二六年十一月");
    assert_eq!(zh("2028-02-29"), "二零二八年二月二十九日");
    // Invalid dates are read as text, not invented.
    assert_eq!(zh("2026-02-30"), "二零二六，零二，三零");
    assert_eq!(zh("明天"), "明天");
    assert_eq!(
        date(Lang::En, "2026-11-27T14:30"),
        "November twenty-seventh, twenty twenty-six, at two thirty p m"
    );
}

#[test]
fn numbers_inside_text_are_read_by_the_same_rules() {
    let zh = |s: &str| normalize(Lang::Zh, s);
    assert_eq!(zh("押金2000元"), "押金两千元");
    assert_eq!(zh("3栋1502室"), "三栋一千五百零二室");
    assert_eq!(zh("请拨打13800138000"), "请拨打幺三八零零幺三八零零零");
    assert_eq!(zh("编号007"), "编号零零七");
    assert_eq!(zh("面积89.5平方米"), "面积八十九点五平方米");
    assert_eq!(zh("14:30上门"), "十四点三十分上门");
    assert_eq!(zh("第１２期"), "第十二期");
    assert_eq!(zh("没有数字"), "没有数字");
    assert_eq!(zh("滞纳金每日0.05%"), "滞纳金每日百分之零点零五");
    assert_eq!(zh("打8折，优惠20％"), "打八折，优惠百分之二十");
    let en = |s: &str| normalize(Lang::En, s);
    assert_eq!(en("Press 1 for billing"), "Press one for billing");
    assert_eq!(en("Room A3"), "Room A three");
    assert_eq!(en("a 5% discount"), "a five percent discount");
    assert_eq!(
        en("open 9:00 to 17:30"),
        "open nine o'clock a m to five thirty p m"
    );
}

#[test]
fn language_codes() {
    assert_eq!(Lang::from_code("zh"), Some(Lang::Zh));
    assert_eq!(Lang::from_code("zh-CN"), Some(Lang::Zh));
    assert_eq!(Lang::from_code("EN_us"), Some(Lang::En));
    assert_eq!(Lang::from_code("fr"), None);
    assert_eq!(Lang::default().code(), "zh");
}
