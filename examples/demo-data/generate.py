#!/usr/bin/env python3
"""Generate Courtyard demo data as CSV files (python3 stdlib only, deterministic).

Usage: python3 generate.py [--out DIR] [--scale 1.0] [--end-month 2026-11] [--seed 7]

Writes estates.csv, units.csv, owners.csv, bills.csv, warranty.csv, kb.csv, announcements.csv
in the formats `courtyard import <kind> <file>` reads (see runtime/store/README.md).
Scale 1.0 gives 2 estates with ~2,000 units; the generated files are committed so the demo needs
no generation step.

Fixed facts demos and end-to-end tests rely on:
  * 13800138000 is 张伟 先生, owner of 幸福花园 3栋2单元1502 (unit xfhy-3-2-1502),
    with 3 unpaid months of property fee (arrears 3 x 263.00 = 789.00 yuan = 78900 fen).
"""
import argparse
import calendar
import csv
import os
import random

SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤"
GIVEN_M = ["伟", "强", "磊", "军", "洋", "勇", "杰", "涛", "明", "超", "刚", "平", "辉", "鹏", "华", "飞", "鑫", "波", "斌", "宇",
           "浩", "凯", "健", "俊", "帆", "帅", "旭", "宁", "龙", "林", "志强", "建华", "国平", "海波", "晓东", "子轩", "浩然", "宇航"]
GIVEN_F = ["芳", "娜", "敏", "静", "丽", "艳", "娟", "霞", "秀英", "玲", "桂英", "丹", "萍", "红", "玉兰", "婷", "雪", "琳", "颖", "倩",
           "慧", "洁", "燕", "晶", "欣怡", "梓涵", "雨涵", "诗琪", "淑珍", "美玲"]
MOBILE_PREFIXES = ["130", "131", "132", "133", "135", "136", "137", "139", "150", "151", "152", "155", "156", "158", "159",
                   "176", "177", "180", "181", "182", "185", "186", "187", "188", "189", "199"]
FIXED_PHONE = "13800138000"
FIXED_UNIT = ("xfhy", "3", "2", "1502")

ESTATES = [
    # id, name, office phone, address, buildings, entrances, floors, rooms/floor, move-in, area choices
    ("xfhy", "幸福花园", "02161234567", "上海市浦东新区幸福路88号", 10, 2, 18, 3, "2022-05-01", ["89.50", "105.20", "132.80"]),
    ("chy", "翠湖苑", "02162345678", "上海市闵行区翠湖路168号", 8, 2, 15, 4, "2024-09-01", ["76.30", "98.60", "118.40", "143.00"]),
]

WARRANTY = [("地基基础和主体结构", 600), ("屋面防水", 60), ("卫生间防水", 60), ("外墙防渗漏", 60), ("供热与供冷系统", 24),
            ("电气管线", 24), ("给排水管道", 24), ("设备安装", 24), ("装修工程", 24), ("门窗", 12)]

KB = [
    ("kb01", "office-hours", "物业办公时间", "物业服务中心办公时间为周一至周五上午8点半到下午5点半，周六上午9点到12点，法定节假日休息，24小时服务热线随时接听报修。",
     "物业服务中心（客服前台）办公时间：周一至周五 8:30-17:30，周六 9:00-12:00，周日及法定节假日休息。夜间和节假日的紧急报修请拨打24小时服务热线，值班工程师会及时处理。", "上班时间;营业时间;几点上班;作息"),
    ("kb02", "gas-account", "燃气开户办理", "燃气开户请携带房产证、业主身份证原件到燃气公司营业厅办理，开户后预约上门通气点火。",
     "新房燃气开户流程：业主携带房产证（或购房合同）、身份证原件及复印件，到燃气公司营业厅办理开户，缴纳开户费后预约上门安装燃气表并通气点火。租户办理需业主授权委托书。", "煤气;天然气;开通燃气;通气;点火"),
    ("kb03", "cable-tv", "有线电视开通", "有线电视开通请联系有线电视公司营业厅，携带身份证和房屋地址办理，工作人员上门安装机顶盒。",
     "有线电视（数字电视）开通：携带业主身份证和房屋地址到有线电视营业厅或拨打其客服电话办理，选择套餐后工作人员会预约上门安装机顶盒并调试信号。", "数字电视;机顶盒;电视信号"),
    ("kb04", "parking", "停车位租用与收费", "小区地下车位月租为每月300元，临时停车首小时免费，之后每小时5元，办理月卡请到物业服务中心。",
     "停车管理：地下车位月租每月300元，季度卡850元；访客临时停车首小时免费，之后每小时5元，24小时封顶40元。办理月卡请携带行驶证、身份证到物业服务中心登记，车牌自动识别入场。", "车位;停车费;月卡;停车场;车库"),
    ("kb05", "decoration-rules", "装修管理规定与手续", "装修前需到物业服务中心办理装修申请，提交图纸，缴纳装修押金，施工时间为工作日8点到12点、14点到18点。",
     "装修手续：开工前业主携带身份证、房产证和装修图纸到物业服务中心办理装修申请，签订装修管理协议，缴纳装修押金2000元（验收合格后退还），施工人员办理出入证。施工时间为工作日 8:00-12:00、14:00-18:00，周末及节假日禁止产生噪音的施工。不得拆改承重墙、不得改变外立面。", "装修申请;装修押金;施工时间;出入证;装修规定"),
    ("kb06", "water-outage", "停水通知与处理", "计划停水会提前在小区公告栏和电话通知，突发停水请拨打服务热线报修，我们会尽快派工程人员排查。",
     "停水处理：计划停水（管网维修、水箱清洗）会提前24小时在公告栏及自动语音通告中通知；如遇突发停水，请先确认家中总阀是否打开，再拨打服务热线报修，值班工程师会尽快排查恢复供水。", "没水;断水;水压低;自来水"),
    ("kb07", "power-outage", "停电处理", "家中停电请先检查户内空气开关是否跳闸，若整栋楼停电请拨打服务热线。",
     "停电处理：请先检查户内配电箱空气开关是否跳闸；若只是自家停电且开关正常，可能是电费余额不足，请查询电费；若整栋楼停电，请拨打服务热线，电工会立即排查。", "没电;断电;跳闸;电闸"),
    ("kb08", "elevator-emergency", "电梯困人应急", "电梯困人时请保持冷静，按下电梯内紧急呼叫按钮，不要扒门，维保人员会在30分钟内到达救援。",
     "电梯困人：请保持冷静，按下轿厢内的紧急呼叫（警铃）按钮或拨打服务热线说明楼栋和电梯号，切勿强行扒门或攀爬。物业值班人员和电梯维保单位会在30分钟内到场救援。", "电梯故障;困在电梯;电梯停运"),
    ("kb09", "property-fee", "物业费标准与缴纳", "住宅物业费为每月每平方米2.5元，可按季度或年度缴纳，支持微信、支付宝和银行代扣。",
     "物业费标准：住宅每月每平方米2.5元（按产权面积计算），可按季度或年度缴纳，年度一次性缴清可享受九五折。缴费方式：物业服务中心前台刷卡、微信或支付宝扫码、银行代扣、短信缴费链接。", "物业管理费;交物业费;缴费标准;收费标准"),
    ("kb10", "payment-methods", "缴费方式", "可通过微信、支付宝、银行代扣或到物业服务中心前台缴纳各项费用，也可以申请短信缴费链接。",
     "缴费方式：1. 物业服务中心前台现场缴费（支持刷卡、扫码）；2. 关注物业公众号在线缴费；3. 申请短信缴费链接；4. 办理银行代扣。缴费后可开具电子发票。", "交费;付款;在线缴费;发票"),
    ("kb11", "water-fee", "水费查询与缴纳", "水费按月抄表计费，可在物业公众号查询用水量并在线缴费。",
     "水费：每月初抄表，按阶梯水价计费，账单在公众号可查；逾期未缴会产生滞纳金。对用水量有疑问可申请复核水表。", "水表;用水量;阶梯水价"),
    ("kb12", "electricity-fee", "电费充值", "电费为预付费，可在国家电网APP或支付宝生活缴费中充值。",
     "电费充值：本小区为一户一表预付费电表，可通过国家电网APP、支付宝或微信生活缴费充值，余额不足时电表会提示，欠费后自动断电，充值后恢复。", "电表;充电费;预付费"),
    ("kb13", "access-card", "门禁卡办理", "门禁卡到物业服务中心办理，业主凭身份证免费办理两张，补办每张20元。",
     "门禁卡办理：业主凭身份证和房产证到物业服务中心办理，每户免费两张，增办或补办每张20元；租户需携带租赁合同和业主授权。支持人脸识别录入。", "门卡;人脸识别;出入卡;补办门卡"),
    ("kb14", "pets", "宠物饲养规定", "小区内遛狗必须拴绳，及时清理宠物粪便，禁止饲养烈性犬。",
     "宠物管理：犬只须办理犬证并接种疫苗，出户必须拴绳，电梯内抱起或靠边，及时清理粪便，禁止饲养烈性犬。宠物扰民可向物业投诉。", "养狗;遛狗;犬证;养猫"),
    ("kb15", "garbage-sorting", "垃圾分类投放", "垃圾分为可回收物、有害垃圾、湿垃圾和干垃圾，每天早7点到9点、晚6点到8点定时投放。",
     "垃圾分类：可回收物、有害垃圾、湿垃圾（厨余）、干垃圾四类，定时投放时间为每天 7:00-9:00、18:00-20:00；大件垃圾和装修垃圾请预约清运，装修垃圾清运费按车收取。", "垃圾;湿垃圾;干垃圾;装修垃圾;大件垃圾"),
    ("kb16", "move-in", "入住交房手续", "办理入住需携带购房合同、身份证、入住通知书，到物业服务中心签署物业服务协议并领取钥匙。",
     "入住手续：携带入住通知书、购房合同、身份证原件，到物业服务中心办理入住登记，签订物业服务协议和装修管理协议，缴纳首期物业费后领取钥匙，并与工作人员共同验房、抄录水电燃气表读数。", "交房;收房;领钥匙;验房"),
    ("kb17", "move-out", "搬家与物品放行", "搬家请提前一天到物业服务中心登记，搬出大件物品需业主开具放行条。",
     "搬家：请提前一天到物业服务中心登记搬家时间，使用货梯时会铺设电梯保护；搬出家具家电等大件物品需业主本人或授权人开具放行条，门岗核对后放行。", "搬出;放行条;货梯"),
    ("kb18", "repair-process", "报修流程", "拨打服务热线按提示选择报修类别并录音描述问题，系统会生成工单号，维修人员会在约定时间上门。",
     "报修流程：拨打服务热线选择报修类别（水、电、燃气、门窗、电梯、公共区域），录音描述问题后系统生成工单号并短信通知；维修人员4小时内联系您预约上门。保修期内的项目由开发商负责免费维修，保修期外按收费标准收取材料费和人工费。", "报修;维修;坏了;工单"),
    ("kb19", "repair-fees", "有偿维修收费标准", "保修期外户内维修收取材料费和人工费，例如更换水龙头人工费30元。",
     "有偿维修：保修期外的户内维修按收费标准收取，人工费如：更换水龙头30元、疏通下水道50元起、更换灯具20元、更换门锁锁芯40元，材料费按实际计算，维修前会告知费用。", "维修费;收费;疏通下水道;换锁"),
    ("kb20", "warranty", "房屋保修期限", "防水工程保修5年，电气管线和给排水管道保修2年，门窗保修1年，自交房之日起计算。",
     "保修期限（自交房之日起计算）：屋面及卫生间防水5年；电气管线、给排水管道、设备安装、装修工程2年；供热供冷系统两个采暖期；门窗1年；地基基础和主体结构为设计合理使用年限。保修期内的质量问题由开发商免费维修。", "保修;保修期;质保;开发商维修"),
    ("kb21", "noise-complaint", "噪音投诉", "邻居装修或生活噪音扰民可拨打热线投诉，物业会上门劝导，夜间噪音可报警处理。",
     "噪音投诉：装修噪音超出规定时间施工、或生活噪音扰民，可拨打服务热线选择投诉，物业会在2小时内上门劝导；夜间22点后的噪音如劝阻无效可拨打110报警。", "噪音;吵;扰民;装修声音"),
    ("kb22", "water-leak", "漏水处理", "家中漏水请先关闭总阀，再拨打服务热线报修，若楼上渗水到您家，物业会协调楼上住户。",
     "漏水处理：发现漏水请立即关闭户内进水总阀，拨打热线报修（紧急情况按紧急报修处理）；如是楼上渗漏，物业会协调楼上业主进行闭水试验和维修，防水保修期内由开发商负责。", "漏水;渗水;水管爆裂;天花板渗水"),
    ("kb23", "gas-leak", "燃气泄漏应急", "闻到燃气味请立即关闭燃气阀门，打开门窗通风，不要开关电器，到室外拨打燃气抢修电话和物业热线。",
     "燃气泄漏：立即关闭燃气总阀，打开门窗通风，切勿开关电器或使用明火、不要在室内打电话，迅速撤离到室外后拨打燃气公司抢修电话和物业24小时热线。", "煤气味;燃气味;漏气"),
    ("kb24", "heating", "供暖与地暖", "本小区为户式燃气壁挂炉采暖，壁挂炉故障请联系厂家售后或物业报修。",
     "供暖：本小区为户式燃气壁挂炉加地暖，壁挂炉保修两个采暖期，故障请联系厂家售后或拨打物业热线报修；地暖管道清洗可预约。", "暖气;地暖;壁挂炉;不热"),
    ("kb25", "express", "快递代收", "小区设有智能快递柜和驿站，物业不代收贵重物品。",
     "快递：小区东门设有智能快递柜和快递驿站，营业时间8:00-21:00；物业前台不代签贵重物品和生鲜，请留意取件通知。", "快递柜;驿站;包裹;取件"),
    ("kb26", "visitor", "访客登记", "访客进入小区需在门岗登记或由业主通过小程序邀请。",
     "访客管理：访客需在门岗出示身份证登记，或由业主在物业小程序生成访客码；访客车辆临时停车首小时免费。", "访客;来访;门岗登记;访客码"),
    ("kb27", "lost-found", "失物招领", "捡到或丢失物品请联系物业服务中心，我们会登记并在公告栏公示。",
     "失物招领：拾到物品可交至物业服务中心登记，丢失物品请到前台或拨打热线登记，监控查询需报警后由警方调取。", "丢东西;捡到;监控"),
    ("kb28", "green-area", "绿化与公共区域", "公共区域绿化损坏、路灯不亮、道路破损等可通过热线报修公共区域。",
     "公共区域：绿化、路灯、道路、健身器材、楼道照明等公共设施损坏，请拨打热线选择公共区域报修，不收取费用。禁止在公共绿地种菜、私搭乱建。", "路灯;楼道灯;绿化;健身器材;公共区域"),
    ("kb29", "invoice", "发票开具", "缴纳物业费后可开具电子发票，发送到您的邮箱或手机。",
     "发票：物业费、停车费缴纳后可开具增值税电子普通发票，请在缴费时提供抬头和税号，发票将发送到邮箱或手机短信；需要纸质发票请到前台办理。", "开发票;电子发票;抬头"),
    ("kb30", "complaint-process", "投诉处理流程", "投诉会生成工单并在24小时内回复，处理完成后会电话回访您的满意度。",
     "投诉流程：拨打热线选择投诉并说明情况，系统生成投诉工单，客服主管24小时内联系您，处理完成后100%电话回访满意度，不满意将重新处理。", "投诉;不满意;回访;意见"),
]

ANNOUNCEMENTS = [
    ("an01", "xfhy", "幸福花园将于12月3日上午9点至下午3点对3号楼和5号楼进行二次供水水箱清洗，届时将暂停供水，请提前储水。", "2026-11-25", "2026-12-03"),
    ("an02", "chy", "翠湖苑地下车库将于12月5日晚上10点至次日早上6点进行地坪养护，请车主提前将车辆移至地面临时车位。", "2026-11-28", "2026-12-05"),
    ("an03", "", "冬季用电用气高峰来临，请各位业主注意用火用电安全，外出时关闭燃气阀门。", "2026-11-01", "2027-02-28"),
    ("an04", "", "物业服务热线全年无休，夜间及节假日紧急报修请直接拨打，按1进入报修。", "2026-01-01", "2027-12-31"),
    ("an05", "xfhy", "幸福花园2026年度物业费缴纳已经开始，年度一次性缴清可享受九五折优惠。", "2026-11-01", "2026-12-31"),
]


def last_day(year, month):
    return "%04d-%02d-%02d" % (year, month, calendar.monthrange(year, month)[1])


def months_back(end, n):
    y, m = map(int, end.split("-"))
    out = []
    for _ in range(n):
        out.append((y, m))
        m -= 1
        if m == 0:
            y, m = y - 1, 12
    return list(reversed(out))


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", default=os.path.dirname(os.path.abspath(__file__)))
    ap.add_argument("--scale", type=float, default=1.0, help="multiplies the number of buildings (1.0 = ~2,000 units)")
    ap.add_argument("--end-month", default="2026-11", help="last billing month, YYYY-MM")
    ap.add_argument("--months", type=int, default=12)
    ap.add_argument("--seed", type=int, default=7)
    a = ap.parse_args()
    rnd = random.Random(a.seed)
    os.makedirs(a.out, exist_ok=True)
    used_phones = {FIXED_PHONE}

    def phone():
        while True:
            p = rnd.choice(MOBILE_PREFIXES) + "%08d" % rnd.randrange(10**8)
            if p not in used_phones:
                used_phones.add(p)
                return p

    def person(male=None):
        male = rnd.random() < 0.5 if male is None else male
        name = rnd.choice(SURNAMES) + rnd.choice(GIVEN_M if male else GIVEN_F)
        return name, ("先生" if male else "女士")

    def w(name, header, rows):
        with open(os.path.join(a.out, name), "w", newline="", encoding="utf-8") as f:
            cw = csv.writer(f, lineterminator="\n")
            cw.writerow(header)
            cw.writerows(rows)
        print("wrote %-18s %6d rows" % (name, len(rows)))

    estates, units, owners, bills, warranty = [], [], [], [], []
    periods = months_back(a.end_month, a.months)
    for (eid, ename, ephone, addr, nb, ne, floors, per_floor, move_in, areas) in ESTATES:
        estates.append([eid, ename, ephone, addr])
        for item, months in WARRANTY:
            warranty.append([eid, item, months])
        for b in range(1, max(1, round(nb * a.scale)) + 1):
            for e in range(1, ne + 1):
                for fl in range(1, floors + 1):
                    for r in range(1, per_floor + 1):
                        room = "%d%02d" % (fl, r)
                        area = areas[(r - 1) % len(areas)]
                        units.append([eid, b, e, room, area, move_in])
                        key = (eid, str(b), str(e), room)
                        fixed = key == FIXED_UNIT
                        if fixed:
                            owners.append([eid, b, e, room, "张伟", "先生", "业主", FIXED_PHONE, "否", "zh"])
                        elif rnd.random() < 0.93:
                            name, hon = person()
                            phones = [phone()] + ([phone()] if rnd.random() < 0.2 else [])
                            vip = "是" if rnd.random() < 0.03 else "否"
                            lang = "en" if rnd.random() < 0.01 else "zh"
                            owners.append([eid, b, e, room, name, hon, "业主", ";".join(phones), vip, lang])
                            if rnd.random() < 0.12:
                                tname, thon = person()
                                owners.append([eid, b, e, room, tname, thon, "租户", phone(), "否", "zh"])
                        # bills: monthly property fee = area x 2.5 yuan/m2
                        fee_fen = int(round(float(area) * 250))
                        arrears_months = 3 if fixed else (rnd.choice([1, 2, 3, 4]) if rnd.random() < 0.08 else 0)
                        for i, (y, m) in enumerate(periods):
                            unpaid = i >= len(periods) - arrears_months
                            ny, nm = (y + 1, 1) if m == 12 else (y, m + 1)
                            bills.append([eid, b, e, room, "物业费", "%04d-%02d" % (y, m), "%d.%02d" % divmod(fee_fen, 100),
                                          "否" if unpaid else "是", last_day(ny, nm)])
    w("estates.csv", ["id", "name", "office_phone", "address"], estates)
    w("units.csv", ["estate_id", "building", "entrance", "room", "area_m2", "move_in_date"], units)
    w("owners.csv", ["estate_id", "building", "entrance", "room", "name", "honorific", "role", "phones", "vip", "language"], owners)
    w("bills.csv", ["estate_id", "building", "entrance", "room", "fee_type", "period", "amount_yuan", "paid", "due_date"], bills)
    w("warranty.csv", ["estate_id", "item", "months"], warranty)
    w("kb.csv", ["id", "topic", "title", "answer", "body", "tags"], [[i, t, ti, ans, body, tags] for (i, t, ti, ans, body, tags) in KB])
    w("announcements.csv", ["id", "estate_id", "text", "start", "end"], [list(x) for x in ANNOUNCEMENTS])


if __name__ == "__main__":
    main()
