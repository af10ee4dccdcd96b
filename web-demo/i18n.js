// The pages' own words in English and Simplified Chinese. Validation
// messages are not here: they come from the module, in the same language.

const STRINGS = {
  en: {
    language: 'Language',
    navForm: 'Daily diary',
    navBatch: 'Check a file',
    formTitle: 'Daily symptom diary',
    trialLine: 'Trial {id}: {name}',
    patientId: 'Patient ID',
    patientHint: 'As printed on your study card, e.g. P-001.',
    patientBad: 'Patient ID must be 1 to 64 letters, digits, - or _.',
    required: 'required',
    yes: 'Yes',
    no: 'No',
    submit: 'Send my answers',
    fixFirst: 'Answer every required question; fix the answers marked in red.',
    ready: 'Ready to send.',
    sending: 'Sending…',
    sent: 'Sent. Thank you!',
    failed: 'Could not send: {message}',
    submissionId: 'Submission id',
    status: 'Status',
    scores: 'Scores',
    statusAccepted: 'accepted — safely stored',
    statusProcessing: 'processing',
    statusProcessed: 'processed',
    statusFailed: 'failed',
    newDiary: 'Fill in another diary',
    loading: 'Loading…',
    noToken: 'This server is not in demo mode: paste an API token with the submit and read scopes.',
    token: 'API token',
    characters: '{n} of {max} characters',
    batchTitle: 'Check a data file',
    batchLede: 'The file is checked in your browser by the same WebAssembly module the server runs; it is not uploaded unless you send it.',
    protocol: 'Protocol',
    asOf: 'Dates after this day are in the future',
    file: 'CSV, JSON, NDJSON or Excel / OpenDocument workbook',
    sheet: 'Sheet (workbooks)',
    sheetHint: 'Name or number; empty: the first sheet with data',
    drop: 'Choose a file, or drop it here',
    validateHere: 'Check in the browser',
    sendServer: 'Check on the server',
    cancel: 'Cancel',
    progress: 'Progress',
    records: 'Records',
    valid: 'Valid',
    invalid: 'Invalid',
    issues: 'Issues',
    byCode: 'Issues by code',
    code: 'Code',
    count: 'Count',
    row: 'Row',
    line: 'Line / cell',
    field: 'Field',
    message: 'Message',
    value: 'Value',
    downloadValid: 'Download valid records (JSON)',
    downloadErrors: 'Download error log (JSONL)',
    checkedBy: 'Checked by',
    browser: 'this browser',
    server: 'the server',
    moduleBrowser: 'Browser module sha256',
    moduleServer: 'Server module sha256',
    match: 'Modules',
    checked: '{n} records checked.',
    same: 'the same module',
    differs: 'a different module!',
    cancelled: 'Cancelled.',
    unusable: 'The file cannot be checked: {message}',
    howTitle: 'How it works',
    howText: 'Your file is read in pieces by a Web Worker; each piece goes through the clinval WebAssembly module, so the page stays usable and memory stays small. Sending to the server streams the file to clinval serve, which runs the very same module. A workbook (xlsx, xls, ods) is read whole, by the larger full module, fetched only when a workbook is chosen.',
  },
  'zh-CN': {
    language: '语言',
    navForm: '每日日记',
    navBatch: '检查文件',
    formTitle: '每日症状日记',
    trialLine: '试验 {id}：{name}',
    patientId: '患者编号',
    patientHint: '见您的研究卡，例如 P-001。',
    patientBad: '患者编号须为 1 至 64 个字母、数字、- 或 _。',
    required: '必填',
    yes: '是',
    no: '否',
    submit: '提交我的回答',
    fixFirst: '请回答所有必填问题，并修正标红的回答。',
    ready: '可以提交。',
    sending: '正在提交…',
    sent: '已提交，谢谢！',
    failed: '提交失败：{message}',
    submissionId: '提交编号',
    status: '状态',
    scores: '评分',
    statusAccepted: '已接收——已安全保存',
    statusProcessing: '处理中',
    statusProcessed: '已处理',
    statusFailed: '失败',
    newDiary: '再填一份日记',
    loading: '加载中…',
    noToken: '服务器未处于演示模式：请粘贴具有 submit 和 read 权限的 API 令牌。',
    token: 'API 令牌',
    characters: '{n} / {max} 字',
    batchTitle: '检查数据文件',
    batchLede: '文件在您的浏览器中由服务器所用的同一个 WebAssembly 模块检查；除非您选择发送，文件不会上传。',
    protocol: '协议',
    asOf: '晚于此日的日期视为将来日期',
    file: 'CSV、JSON、NDJSON 文件或 Excel / OpenDocument 工作簿',
    sheet: '工作表（工作簿）',
    sheetHint: '名称或序号；留空：第一个有数据的工作表',
    drop: '选择文件，或拖放到此处',
    validateHere: '在浏览器中检查',
    sendServer: '在服务器上检查',
    cancel: '取消',
    progress: '进度',
    records: '记录',
    valid: '有效',
    invalid: '无效',
    issues: '问题',
    byCode: '按代码统计的问题',
    code: '代码',
    count: '数量',
    row: '行号',
    line: '物理行 / 单元格',
    field: '字段',
    message: '说明',
    value: '值',
    downloadValid: '下载有效记录（JSON）',
    downloadErrors: '下载错误日志（JSONL）',
    checkedBy: '检查者',
    browser: '本浏览器',
    server: '服务器',
    moduleBrowser: '浏览器模块 sha256',
    moduleServer: '服务器模块 sha256',
    match: '模块比对',
    checked: '已检查 {n} 条记录。',
    same: '同一个模块',
    differs: '模块不同！',
    cancelled: '已取消。',
    unusable: '无法检查该文件：{message}',
    howTitle: '工作原理',
    howText: '文件由 Web Worker 分块读取，每一块都经过 clinval WebAssembly 模块，因此页面始终可用、内存占用很小。发送到服务器时，文件以流的方式传给 clinval serve，它运行的是完全相同的模块。工作簿（xlsx、xls、ods）需整体读取，由较大的完整模块处理，仅在选择工作簿时才下载。',
  },
};

/** The page language: saved choice, else the browser's. */
export function initialLang() {
  const saved = localStorage.getItem('clinval-lang');
  if (saved && STRINGS[saved]) return saved;
  return (navigator.language || '').toLowerCase().startsWith('zh') ? 'zh-CN' : 'en';
}

/** `key` in `lang`, with `{name}` replaced from `vars`. */
export function t(lang, key, vars = {}) {
  const text = (STRINGS[lang] || STRINGS.en)[key] ?? STRINGS.en[key] ?? key;
  return text.replace(/\{(\w+)\}/g, (_, name) => String(vars[name] ?? ''));
}

/** Fills every `[data-i18n]` element's text, sets `<html lang>`. */
export function translatePage(lang) {
  document.documentElement.lang = lang;
  for (const el of document.querySelectorAll('[data-i18n]')) el.textContent = t(lang, el.dataset.i18n);
}

/** Wires the language `<select id="lang">`; `onChange(lang)` after a switch. */
export function languageSelect(lang, onChange) {
  const select = document.getElementById('lang');
  select.value = lang;
  select.addEventListener('change', () => {
    localStorage.setItem('clinval-lang', select.value);
    onChange(select.value);
  });
}
