// The console's Chinese words for the API's codes. Invoice types and error messages come
// from the hub's own catalogue (the API's type_name, message and resMsg), not from here.

export const STATUS = {
  Y: "已验真",
  F: "查验失败",
  C: "待查验",
  U: "无法识别",
  R: "识别中",
  I: "已识别",
};

// The review queue's states, in the order the filter offers them.
export const QUEUE_STATES = ["U", "F", "C"];

// 001 receipt_ocr.invoices[] fields: these always, in this order, then any other the
// entry has.
export const MAIN_FIELDS = [
  "invoice_type",
  "invoice_code",
  "invoice_number",
  "receipt_date",
  "amount",
  "tax_amount",
  "total_amount",
  "check_code",
  "buyer_name",
  "buyer_tax_code",
  "seller_name",
  "seller_tax_code",
  "remark",
];

export const FIELD_LABELS = {
  invoice_type: "发票类型",
  invoice_code: "发票代码",
  invoice_number: "发票号码",
  receipt_date: "开票日期",
  amount: "金额(不含税)",
  tax_amount: "税额",
  total_amount: "价税合计",
  subtotal_amount: "小计",
  tax_rate: "税率",
  check_code: "校验码",
  buyer_name: "购买方名称",
  buyer_tax_code: "购买方税号",
  buyer_bank: "购买方开户行",
  seller_name: "销售方名称",
  seller_tax_code: "销售方税号",
  remark: "备注",
  title: "发票标题",
  currency: "币种",
  agent_mark: "代开标志",
  purchase_invoice: "收购发票",
  highway_flag: "通行费标志",
  other_info: "其他信息",
  start_time: "上车时间",
  end_time: "下车时间",
  mileage: "里程",
  destination_city: "出发地",
  destination_city_to: "目的地",
  train_class: "席别",
  train_number: "车次",
  start_datetime: "乘车时间",
  name: "乘车人",
  id_card: "身份证号",
  fare: "票价",
  fuel_surcharge: "燃油附加费",
  civil_avn_dev_fund: "民航发展基金",
  other_taxes: "其他税费",
  insurance: "保险费",
  international_flag: "国内/国际",
  error_num_flag: "号码有误",
  company_seal: "发票专用章",
};

export const SOURCES = {
  qr: "QR码",
  text_layer: "文字层",
  ocr: "OCR识别",
  ofd_xml: "OFD数据",
  ofd_text: "OFD文字",
  provider: "服务商",
  correction: "人工更正",
};

// The overview's series, in the chart's order.
export const OUTCOMES = [
  ["created", "已创建"],
  ["duplicate", "重复"],
  ["rejected", "被拒绝"],
  ["unrecognisable", "无法识别"],
];

export const SIGNATURE_STATES = {
  valid: "签名有效",
  tampered: "文件被篡改",
  modified_after_signing: "签名后被修改",
  absent: "没有签名",
  unverifiable: "无法验证签名",
};

export const ISSUER_KINDS = {
  tax_bureau: "税务电子证书管理中心",
  tax_bureau_test: "税务测试证书",
  commercial_ca: "商业证书机构",
  unknown: "未知签发者",
};

export const ROLES = { submit: "提交", review: "复核", erp: "ERP", admin: "管理员" };

export const label = (table, code) => table[code] ?? String(code ?? "");
