/**
 * The page's only assets, shipped in the package (no CDN, no network fetch): one stylesheet and
 * one small script of progressive enhancement (the pages work without it). Served under
 * `{basePath}/assets/` with their content hash in the name, so they can be cached for a year.
 *
 * @module
 */
import { createHash } from 'node:crypto';

const CSS = `
:root{--fg:#1d2330;--muted:#5b6474;--line:#dfe3ea;--bg:#f6f7f9;--card:#fff;--accent:#2457d6;
--ok:#1f9d55;--fail:#d64545;--err:#d98a1c;--pending:#6b7cff;--cancel:#8a93a3;
font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:var(--fg);background:var(--bg)}
*{box-sizing:border-box}body{margin:0}
a{color:var(--accent);text-decoration:none}a:hover{text-decoration:underline}
header.top{display:flex;gap:1.5rem;align-items:center;padding:.7rem 1.5rem;background:#141b2d;color:#fff}
header.top a{color:#cfd8f0}header.top .brand{font-weight:600;color:#fff}
header.top nav{display:flex;gap:1rem}header.top nav a.current{color:#fff;font-weight:600}
header.top .scope{margin-left:auto;color:#9aa6c4}
main{padding:1.2rem 1.5rem;max-width:1400px}
h1{font-size:1.35rem;margin:.2rem 0 1rem}h1.mono{font-size:1.15rem}h2{font-size:1.05rem;margin:1.4rem 0 .6rem}
.card{background:var(--card);border:1px solid var(--line);border-radius:8px;padding:1rem;margin-bottom:1rem}
table{border-collapse:collapse;width:100%;background:var(--card)}
th,td{text-align:left;padding:.45rem .6rem;border-bottom:1px solid var(--line);vertical-align:top}
th{font-weight:600;color:var(--muted);font-size:.8rem;text-transform:uppercase;letter-spacing:.03em;background:#fafbfc}
table.headers th{text-transform:none;letter-spacing:0;font-size:.8rem;color:var(--fg);width:28%;background:transparent}
td.num,th.num{text-align:right;font-variant-numeric:tabular-nums}
.mono,code,pre{font-family:ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;font-size:.85rem}
.url{word-break:break-all}.muted{color:var(--muted)}.small{font-size:.8rem}
.badge{display:inline-block;padding:.05rem .5rem;border-radius:999px;font-size:.75rem;font-weight:600;color:#fff;background:var(--cancel)}
.badge.succeeded,.badge.enabled,.badge.ok{background:var(--ok)}.badge.failed,.badge.disabled{background:var(--fail)}
.badge.pending{background:var(--pending)}.badge.canceled{background:var(--cancel)}.badge.errored{background:var(--err)}
.badge.paused{background:var(--err)}form.ordering{display:flex;flex-wrap:wrap;gap:.6rem;align-items:end;margin-top:.8rem}
.notice{background:#e8f5ec;border:1px solid #b9e0c6;padding:.6rem .9rem;border-radius:6px}
.error-box{background:#fdecec;border:1px solid #f2c0c0;padding:.6rem .9rem;border-radius:6px}
form.inline{display:inline}form.filters,form.recover{display:flex;flex-wrap:wrap;gap:.6rem;align-items:end}
label{display:flex;flex-direction:column;font-size:.75rem;color:var(--muted);gap:.15rem}
label.check{flex-direction:row;align-items:center;gap:.3rem;font-size:.85rem;color:var(--fg)}
input,select{font:inherit;padding:.3rem .45rem;border:1px solid #c6ccd6;border-radius:5px;background:#fff;min-width:0}
button{font:inherit;padding:.32rem .8rem;border-radius:5px;border:1px solid var(--accent);background:var(--accent);color:#fff;cursor:pointer}
button.secondary{background:#fff;color:var(--accent)}button.danger{background:var(--fail);border-color:var(--fail)}
.actions{display:flex;flex-wrap:wrap;gap:.5rem;margin:.6rem 0}
.pager{display:flex;gap:1rem;margin:.8rem 0}
dl.summary{display:grid;grid-template-columns:max-content 1fr;gap:.3rem 1rem;margin:0}
dl.summary dt{color:var(--muted)}dl.summary dd{margin:0}
pre.body{background:#0f1626;color:#e6ebf5;padding:.8rem;border-radius:6px;overflow:auto;max-height:28rem;white-space:pre-wrap;word-break:break-word;margin:.4rem 0}
article.attempt{border:1px solid var(--line);border-radius:8px;padding:.8rem;margin-bottom:.8rem;background:var(--card)}
article.attempt h3{margin:0 0 .4rem;font-size:.95rem;display:flex;gap:.6rem;align-items:center}
.stats{display:flex;flex-wrap:wrap;gap:1.5rem;margin:.3rem 0}.stat b{display:block;font-size:1.1rem}
svg.chart{display:block}svg.chart.wide{width:100%;height:140px}.card>h2:first-child{margin-top:0}svg.chart .ok{fill:var(--ok)}svg.chart .fail{fill:var(--fail)}svg.chart .err{fill:var(--err)}
svg.chart .dur{fill:none;stroke:#2457d6;stroke-width:1.5}svg.chart .axis{stroke:var(--line)}
svg.chart text{font-size:9px;fill:var(--muted)}
.legend{display:flex;gap:.8rem;font-size:.75rem;color:var(--muted)}.legend i{display:inline-block;width:.7rem;height:.7rem;border-radius:2px;margin-right:.25rem;vertical-align:-1px}
.legend .ok{background:var(--ok)}.legend .fail{background:var(--fail)}.legend .err{background:var(--err)}.legend .dur{background:#2457d6;height:2px;vertical-align:3px}
.empty{padding:1.5rem;text-align:center;color:var(--muted)}
`;

const JS = `
(function(){
  document.addEventListener('submit', function(event){
    var form = event.target;
    var question = form && form.getAttribute && form.getAttribute('data-confirm');
    if (question && !window.confirm(question)) event.preventDefault();
  });
  document.addEventListener('change', function(event){
    var field = event.target;
    if (field && field.form && field.form.hasAttribute('data-autosubmit') && field.tagName === 'SELECT') field.form.submit();
  });
  var times = document.querySelectorAll('time[datetime]');
  for (var i = 0; i < times.length; i++) {
    var at = new Date(times[i].getAttribute('datetime'));
    if (!isNaN(at.getTime())) times[i].title = at.toLocaleString();
  }
})();
`;

/** One asset: its body, content type and hashed file name. */
export interface Asset {
  name: string;
  body: string;
  contentType: string;
}

function asset(stem: string, ext: string, body: string, contentType: string): Asset {
  const hash = createHash('sha256').update(body).digest('hex').slice(0, 10);
  return { name: `${stem}.${hash}.${ext}`, body, contentType };
}

/** The stylesheet. */
export const STYLESHEET: Asset = asset('hookline-ui', 'css', CSS.trim(), 'text/css; charset=utf-8');
/** The script. */
export const SCRIPT: Asset = asset('hookline-ui', 'js', JS.trim(), 'text/javascript; charset=utf-8');
/** Every asset by file name. */
export const ASSETS: ReadonlyMap<string, Asset> = new Map([STYLESHEET, SCRIPT].map((a) => [a.name, a]));
