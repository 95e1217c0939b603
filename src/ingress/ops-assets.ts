// The ops page's stylesheet and its little script, served from the same process (no build step).
// Served as files so the Content-Security-Policy can forbid inline script.
export const OPS_CSS = `
:root{--fg:#1d2430;--muted:#5b6575;--line:#d9dee7;--bg:#f5f7fa;--accent:#1f5fbf;--warn:#9a5b00;--bad:#a32020;--good:#17773a}
*{box-sizing:border-box}
body{margin:0;font:15px/1.5 system-ui,-apple-system,"Segoe UI",sans-serif;color:var(--fg);background:var(--bg)}
header{display:flex;align-items:center;gap:1rem;padding:.6rem 1.5rem;background:#1d2430;color:#fff}
header a{color:#fff;text-decoration:none;font-weight:600}
header .who{margin-left:auto;font-size:.9rem;opacity:.9}
header form{display:inline;margin:0}
header button{background:none;border:1px solid #fff6;color:#fff;border-radius:4px;padding:.15rem .6rem;cursor:pointer}
main{max-width:72rem;margin:1.5rem auto;padding:0 1.5rem}
h1{font-size:1.4rem;margin:.2rem 0 1rem}
h2{font-size:1.1rem;margin:1.6rem 0 .5rem}
.card{background:#fff;border:1px solid var(--line);border-radius:8px;padding:1rem 1.2rem;margin-bottom:1rem}
table{width:100%;border-collapse:collapse;background:#fff}
th,td{text-align:left;padding:.45rem .6rem;border-bottom:1px solid var(--line);vertical-align:top}
th{font-size:.8rem;text-transform:uppercase;letter-spacing:.03em;color:var(--muted)}
.tabs{display:flex;flex-wrap:wrap;gap:.4rem;margin-bottom:1rem}
.tabs a{padding:.25rem .7rem;border:1px solid var(--line);border-radius:999px;background:#fff;color:var(--fg);text-decoration:none;font-size:.9rem}
.tabs a.on{background:var(--accent);border-color:var(--accent);color:#fff}
.step{display:inline-block;padding:.05rem .55rem;border-radius:999px;font-size:.85rem;font-weight:600;background:#e7ecf5}
.step.waiting-for-consent,.step.waiting-for-resource-fix,.step.exchanging-token{background:#fff1d6;color:var(--warn)}
.step.verified{background:#dff3e6;color:var(--good)}
.step.failed,.step.expired,.step.cancelled{background:#f8dede;color:var(--bad)}
.muted{color:var(--muted)}
.error{border-left:4px solid var(--bad)}
.error .code{font-weight:700;color:var(--bad)}
.flash{border-left:4px solid var(--good)}
.problem{border-left:4px solid var(--bad);color:var(--bad)}
.link{display:flex;gap:.5rem;align-items:center;margin:.3rem 0}
.link input{flex:1;font:13px ui-monospace,monospace;padding:.3rem;border:1px solid var(--line);border-radius:4px;background:#fafbfc}
label{display:block;font-weight:600;margin:.6rem 0 .2rem}
input[type=text],input[type=url],input[type=password],textarea{width:100%;max-width:36rem;padding:.45rem;border:1px solid #b8c0cc;border-radius:4px;font:inherit}
button,.button{display:inline-block;margin-top:.7rem;padding:.45rem 1rem;border:0;border-radius:4px;background:var(--accent);color:#fff;font:inherit;font-weight:600;cursor:pointer;text-decoration:none}
button.secondary,.button.secondary{background:#e7ecf5;color:var(--fg)}
.actions{display:grid;grid-template-columns:repeat(auto-fit,minmax(20rem,1fr));gap:1rem}
dl{display:grid;grid-template-columns:max-content 1fr;gap:.25rem 1rem;margin:0}
dt{color:var(--muted)}
dd{margin:0}
dd,p,td:last-child{overflow-wrap:anywhere}
#timeline{table-layout:fixed}
#timeline th:nth-child(1){width:11.5rem}
#timeline th:nth-child(2){width:13rem}
#timeline th:nth-child(3){width:10rem}
form.card button[type=submit]{display:block}
.card h2:first-child{margin-top:0}
#timeline td:nth-child(2){white-space:nowrap}
td.account{white-space:nowrap}
td.when{white-space:nowrap;font-size:.85rem;color:var(--muted)}
`;

export const OPS_JS = `
// Copy buttons for the links ops hand to customers.
for (const button of document.querySelectorAll('[data-copy]')) {
  button.addEventListener('click', () => {
    const input = document.getElementById(button.dataset.copy);
    input.select();
    (navigator.clipboard ? navigator.clipboard.writeText(input.value) : Promise.resolve(document.execCommand('copy')))
      .then(() => { button.textContent = 'Copied'; });
  });
}
// The list reloads itself now and then; an onboarding's page reloads when its state changes,
// unless someone is typing in one of its forms or has ticked a box (dropping the note about the
// action just sent).
const typing = () =>
  [...document.querySelectorAll('main input:not([type=hidden]):not([readonly]), main textarea')]
    .some((field) => (field.type === 'checkbox' ? field.checked : field.value) || field === document.activeElement);
const { refresh, watch, version } = document.body.dataset;
if (refresh) setInterval(() => typing() || location.reload(), Number(refresh) * 1000);
if (watch) {
  setInterval(async () => {
    const res = await fetch(watch, { cache: 'no-store' }).catch(() => null);
    if (res && res.ok && (await res.text()) !== version && !typing()) location.replace(location.pathname);
  }, 2000);
}
`;
