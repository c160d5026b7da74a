// Configuration of the bill lookup: the same sections and defaults as the Rust plugin's
// (`common`, `identify`, `bills`; see docs/plugins.md), so one config.json serves all three
// variants. Unknown keys inside these sections are refused by check-config.

export const SECTIONS = {
  common: {
    agent_queue: 'default',
    agent_priority: 0,
    transfer_text: '正在为您转接人工客服,请稍候',
    service_error_text: '抱歉,系统暂时无法处理您的请求,正在为您转接人工客服',
    invalid_text: '您的输入有误,',
    no_input_text: '抱歉,没有听到您的按键,',
    attempts: 3,
    first_digit_timeout_ms: 5000,
    barge_in: true,
    goodbye_text: '感谢您的来电,再见',
    queue_busy_text: '当前坐席繁忙,我们已为您登记回电,请保持电话畅通,再见',
    callback_text: '已为您登记回电,请保持电话畅通,再见',
    callback_failed_text: '抱歉,当前坐席繁忙,请稍后再拨,再见',
    sms_signature: '【幸福物业】',
  },
  identify: {
    verify: true,
    building_prompt: '请输入您的楼栋号,以井号键结束',
    entrance_prompt: '请输入单元号,以井号键结束',
    room_prompt: '请输入房号,以井号键结束',
    not_found_text: '未查询到该房屋,',
    verify_prompt: '请输入业主预留手机号码的后四位',
    verify_failed_text: '验证未通过,',
    failed_text: '抱歉,无法核实您的房屋信息,正在为您转接人工客服',
    choose_intro: '您名下有多套房屋,',
    choose_item: '{unit}请按{key},',
    attempts: 3,
  },
  bills: {
    queue: 'billing',
    header_text: '您的房屋{unit}共有{count}笔未缴费用,',
    item_text: '{fee}{period}账单{amount},缴费截止日期{due};',
    total_text: '合计应缴{total}。',
    no_bills_text: '您的房屋{unit}目前没有未缴费用,感谢您的支持。',
    max_items: 6,
    offer_prompt: '发送缴费链接短信请按1,重听请按2,人工服务请按0',
    sms_text: '您的房屋{unit}待缴费用合计{total}元,缴费链接:{link}',
    sms_sent_text: '缴费链接短信已发送,请注意查收。',
    fee_names: {},
  },
};

const kind = (v) => (v === null ? 'null' : Array.isArray(v) ? 'array' : typeof v);

/** Defaults overlaid with the document's sections; throws naming a bad key. */
export function load(doc) {
  if (kind(doc) !== 'object') throw new Error('the configuration must be a JSON object');
  const out = {};
  for (const [name, defaults] of Object.entries(SECTIONS)) {
    const given = doc[name] ?? {};
    if (kind(given) !== 'object') throw new Error(`${name}: expected an object`);
    const section = { ...defaults };
    for (const [key, value] of Object.entries(given)) {
      if (!(key in defaults)) {
        throw new Error(`${name}: unknown field \`${key}\`, expected one of ${Object.keys(defaults).join(', ')}`);
      }
      if (kind(value) !== kind(defaults[key])) throw new Error(`${name}.${key}: expected ${kind(defaults[key])}`);
      section[key] = value;
    }
    out[name] = section;
  }
  if (!out.common.agent_queue) throw new Error('common.agent_queue is empty');
  return out;
}
