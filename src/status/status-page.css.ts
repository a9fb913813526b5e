/** The page's own styles, served as a file: the Content-Security-Policy forbids inline styles. */
export const STATUS_PAGE_CSS = `
body { font: 14px/1.4 system-ui, sans-serif; margin: 0; color: #1d232a; background: #f6f7f9; }
header { background: #1d232a; color: #fff; padding: 12px 24px; }
header h1 { margin: 0; font-size: 20px; }
header .group { font-weight: normal; opacity: 0.8; margin-left: 8px; }
header p { margin: 4px 0 0; opacity: 0.8; font-size: 12px; }
main { padding: 8px 24px 24px; display: grid; gap: 8px 24px;
  grid-template-columns: repeat(auto-fit, minmax(560px, 1fr)); }
section { background: #fff; border: 1px solid #dde1e6; border-radius: 6px; padding: 8px 16px 12px; min-width: 0; }
h2 { font-size: 15px; margin: 6px 0 8px; }
table { border-collapse: collapse; width: 100%; }
section.wide { grid-column: 1 / -1; }
th, td { text-align: left; padding: 3px 12px 3px 0; border-bottom: 1px solid #eef0f3; vertical-align: top; }
th { font-weight: 600; color: #56606b; white-space: nowrap; }
td { overflow-wrap: anywhere; }
#config { columns: 3 340px; column-gap: 24px; margin: 0; }
#config div { display: flex; gap: 8px; break-inside: avoid; border-bottom: 1px solid #eef0f3; padding: 2px 0; }
#config dt { color: #56606b; min-width: 45%; overflow-wrap: anywhere; }
#config dd { margin: 0; font-family: ui-monospace, monospace; font-size: 12px; overflow-wrap: anywhere; }
td { font-family: ui-monospace, monospace; font-size: 12px; }
.note { color: #56606b; font-size: 12px; margin: 6px 0 0; }
#rate-chart { min-height: 240px; }
`;
