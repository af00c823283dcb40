// The console's words in English and Chinese, and the language the merchandiser chose (kept for the tab's session).
const T = {
  en: {
    brand: "Lifeshop console", loading: "Loading…", sign_out: "Sign out", sign_in: "Sign in",
    token_label: "Merchandiser token (a bearer token with the merchandiser role)", use_demo: "Use the demo merchandiser token (stage local)",
    hosted: "Sign in with your company account", not_merch: "This token is not a merchandiser's: the console needs the merchandiser role.",
    bad_token: "This token is not valid or has expired.", session_ended: "Your session ended: sign in again.",
    network_error: "The shop did not answer: check your connection and try again.", unexpected: "Something went wrong",
    products: "Catalog", orders: "Orders", designs: "Design review", events: "Event review", campaigns: "Campaigns",
    coupons: "Coupons", audit: "Audit log", report: "Points report", status: "Status", category: "Category", any: "Any",
    search_title: "Search by title", new_product: "New product", title: "Title", title_zh: "Chinese title", kind: "Kind",
    skus: "SKUs", stock: "Stock", updated: "Updated", load_more: "Load more", none: "Nothing here yet.",
    description: "Description", owner_only: "Owners only", accepts_points: "Accepts points", accepts_cash: "Accepts cash",
    images: "Image URLs (https, one per line)", sku: "SKU", price: "Price (¥)", unit_price: "Unit price", yuan_hint: "In yuan, at most two decimals, e.g. 49.90", points_price: "Points price",
    stock_shards: "Stock shards", attributes: "Attributes (key=value, comma separated)", add_sku: "Add a SKU",
    remove: "Remove", save: "Save", saved: "Saved", publish: "Publish", archive: "Archive", coupon_id: "Coupon template",
    sale_starts_at: "On sale from (ISO time with zone)", per_user_limit: "Per-user limit", adjust_stock: "Adjust stock",
    delta: "Change (+/- units)", reason: "Reason", apply: "Apply", codes: "Voucher codes (one per line)", upload: "Upload",
    codes_added: "Codes added", order: "Order", user: "User", subtotal: "Subtotal", discount: "Discount",
    points: "Points", cash: "Cash", created: "Created", lines: "Lines", qty: "Qty", refund: "Refund",
    refund_reason: "Refund reason", refunded: "Refunded", payment: "Payment", shipments: "Shipments", vouchers: "Vouchers",
    approve: "Approve", reject: "Reject", note: "Note (required to reject)", approved: "Approved", rejected: "Rejected",
    proposed_price: "Proposed price", votes: "Votes", city: "City", starts_at: "Starts", capacity: "Capacity",
    fee: "Fee", host: "Host", name: "Name", budget: "Budget", issued: "Issued", remaining: "Remaining",
    create: "Create", campaign_id: "Campaign id", budget_points: "Budget (points)", off: "Discount", min_subtotal: "Minimum", min_subtotal_yuan: "Minimum (¥)",
    valid_days: "Valid days", budget_count: "Budget (coupons)", left: "Left", grant: "Grant", grant_to: "Grant to user",
    user_id: "User id", ref: "Your reference", amount_off: "Amount off (¥)", percent_off: "Percent off",
    categories: "Categories (comma separated, empty for any)", at: "At", actor: "Actor", action: "Action", entity: "Entity",
    change: "Change", from: "From", to: "To", show: "Show", day: "Day", outstanding: "Outstanding", liability: "Liability",
    redeemed: "Redeemed", returned: "Returned", expired: "Expired", issued_total: "Issued", opening: "Outstanding before the first day",
    chart_caption: "Points issued and redeemed per day (bars) and outstanding at the end of each day (line)",
    granted: "Granted", created_ok: "Created", coupon_product: "kind coupon only", physical: "physical", voucher: "voucher",
    coupon: "coupon",
    template_id: "Coupon id", fields: "Fields", back: "Back", reply_mismatch: "The sign-in reply did not match this page's request: sign in again.",
    signin_refused: "The sign-in page did not sign you in: try again, or paste a token.",
    earn: "Tasks", referral: "Referrals",
    design_reward: "Design rewards", royalty: "Royalties", event_reward: "Event rewards", envelope: "Red envelopes", detail: "Detail", issued_by_source: "Issued by source", totals: "Totals",
  },
  zh: {
    brand: "生活商城后台", loading: "加载中…", sign_out: "退出", sign_in: "登录",
    token_label: "运营令牌（带 merchandiser 角色的 Bearer 令牌）", use_demo: "使用演示运营令牌（本地环境）",
    hosted: "使用公司账号登录", not_merch: "此令牌不是运营人员的：后台需要 merchandiser 角色。",
    bad_token: "令牌无效或已过期。", session_ended: "登录已过期，请重新登录。",
    network_error: "商城没有响应：请检查网络后重试。", unexpected: "出错了",
    products: "商品", orders: "订单", designs: "设计审核", events: "活动审核", campaigns: "积分活动",
    coupons: "优惠券", audit: "操作日志", report: "积分报表", status: "状态", category: "类目", any: "全部",
    search_title: "按标题搜索", new_product: "新建商品", title: "标题", title_zh: "中文标题", kind: "类型",
    skus: "规格", stock: "库存", updated: "更新时间", load_more: "加载更多", none: "暂无内容。",
    description: "描述", owner_only: "仅车主", accepts_points: "可用积分", accepts_cash: "可用现金",
    images: "图片地址（https，每行一个）", sku: "规格编码", price: "价格（元）", unit_price: "单价", yuan_hint: "以元为单位，最多两位小数，如 49.90", points_price: "积分价",
    stock_shards: "库存分片", attributes: "属性（键=值，逗号分隔）", add_sku: "添加规格",
    remove: "删除", save: "保存", saved: "已保存", publish: "上架", archive: "下架", coupon_id: "优惠券模板",
    sale_starts_at: "开售时间（带时区的 ISO 时间）", per_user_limit: "每人限购", adjust_stock: "调整库存",
    delta: "变化（+/- 件）", reason: "原因", apply: "执行", codes: "券码（每行一个）", upload: "上传",
    codes_added: "已添加券码", order: "订单", user: "用户", subtotal: "小计", discount: "优惠",
    points: "积分", cash: "现金", created: "创建时间", lines: "明细", qty: "数量", refund: "退款",
    refund_reason: "退款原因", refunded: "已退款", payment: "支付", shipments: "发货", vouchers: "券码",
    approve: "通过", reject: "拒绝", note: "备注（拒绝时必填）", approved: "已通过", rejected: "已拒绝",
    proposed_price: "建议价格", votes: "票数", city: "城市", starts_at: "开始时间", capacity: "名额",
    fee: "费用", host: "发起人", name: "名称", budget: "预算", issued: "已发放", remaining: "剩余",
    create: "创建", campaign_id: "活动编号", budget_points: "预算（积分）", off: "优惠", min_subtotal: "门槛", min_subtotal_yuan: "门槛（元）",
    valid_days: "有效天数", budget_count: "发放总量", left: "剩余", grant: "发放", grant_to: "发放给用户",
    user_id: "用户编号", ref: "业务参考号", amount_off: "减免金额（元）", percent_off: "折扣百分比",
    categories: "类目（逗号分隔，留空为全部）", at: "时间", actor: "操作人", action: "操作", entity: "对象",
    change: "变更", from: "开始日期", to: "结束日期", show: "查看", day: "日期", outstanding: "流通积分", liability: "负债",
    redeemed: "已兑换", returned: "已退回", expired: "已过期", issued_total: "发放", opening: "首日前流通积分",
    chart_caption: "每日发放与兑换积分（柱）及每日末流通积分（线）",
    granted: "已发放", created_ok: "已创建", coupon_product: "仅优惠券类型", physical: "实物", voucher: "电子券",
    coupon: "优惠券",
    template_id: "优惠券编号", fields: "字段", back: "返回", reply_mismatch: "登录回执与本页请求不符，请重新登录。",
    signin_refused: "登录页未能完成登录：请重试，或粘贴令牌。",
    earn: "任务", referral: "推荐", design_reward: "设计奖励", royalty: "版税",
    event_reward: "活动奖励", envelope: "红包", detail: "详情", issued_by_source: "按来源发放", totals: "合计",
  },
};

// A status code as words (products, orders, designs and events share these codes).
const STATUS = {
  en: {
    draft: "draft", active: "active", archived: "archived", submitted: "submitted", approved: "approved",
    rejected: "rejected", pending_payment: "pending payment", paid: "paid", partially_shipped: "partially shipped",
    shipped: "shipped", cancelled: "cancelled", refunded: "refunded", expired: "expired", payment_failed: "payment failed",
  },
  zh: {
    draft: "草稿", active: "在售", archived: "已下架", submitted: "待审核", approved: "已通过", rejected: "已拒绝",
    pending_payment: "待支付", paid: "已支付", partially_shipped: "部分发货", shipped: "已发货", cancelled: "已取消",
    refunded: "已退款", expired: "已过期", payment_failed: "支付失败",
  },
};

let current = sessionStorage.getItem("lang") === "zh" ? "zh" : "en";

export const lang = () => current;

export function setLang(value) {
  current = value === "zh" ? "zh" : "en";
  sessionStorage.setItem("lang", current);
}

// A key's words in the current language, else in English, else the key itself.
export const t = (k) => (T[current][k] !== undefined ? T[current][k] : T.en[k] !== undefined ? T.en[k] : k);

// A status's words in the current language; a code the console does not know, as it is.
export const statusText = (code) => STATUS[current][code] ?? code;
