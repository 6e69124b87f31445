package serve

import (
	"bytes"
	"html/template"
	"net/http"
	"strconv"
	"time"

	"github.com/featgraph/featgraph/viz"
)

// DebugPath is where the debug page is served.
const DebugPath = "/debug/featgraph"

var debugPage = template.Must(template.New("debug").Parse(`<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>featgraph serve</title>
<style>
body { font-family: Helvetica, Arial, sans-serif; margin: 1.5em; color: #222; }
h2 { border-bottom: 1px solid #ccc; padding-bottom: .2em; margin-top: 2em; }
.meta { color: #555; font-size: 90%; }
.picture { overflow: auto; border: 1px solid #eee; padding: .5em; margin: .5em 0; }
.picture svg { max-width: 100%; height: auto; }
.run { margin: 1em 0; }
.status { font-weight: bold; }
pre { background: #f6f6f6; padding: .5em; overflow: auto; }
</style>
</head>
<body>
<h1>featgraph serve</h1>
<p class="meta">{{.InFlight}} request(s) in flight{{if .Draining}}, draining{{end}}; page made {{.Now}}.</p>
{{range .Graphs}}
<section class="graph" id="graph-{{.Name}}">
<h2>{{.Name}} <span class="meta">version {{.Version}}, deadline {{.Deadline}}</span></h2>
{{if .Description}}<p>{{.Description}}</p>{{end}}
<p class="meta">inputs: {{range $i, $in := .Inputs}}{{if $i}}, {{end}}{{$in.Name}} ({{$in.Type}}){{end}}; targets: {{range $i, $t := .Targets}}{{if $i}}, {{end}}{{$t}}{{end}}</p>
{{if .SVG}}<div class="picture graph-picture">{{.SVG}}</div>{{else}}<p>The picture needs Graphviz: {{.SVGError}}</p><pre>{{.DOT}}</pre>{{end}}
{{range .Sections}}
<h3>{{.Title}}</h3>
{{if not .Runs}}<p class="meta">none yet</p>{{end}}
{{range .Runs}}
<div class="run">
<p><span class="status">{{.Status}}</span> run {{.RunID}} (version {{.Version}}) at {{.When}}, {{.Duration}}</p>
<div class="picture waterfall">{{.Waterfall}}</div>
</div>
{{end}}
{{end}}
</section>
{{else}}
<p>No graphs served.</p>
{{end}}
</body>
</html>
`))

type debugGraph struct {
	Name, Version, Description, Deadline string
	Inputs                               []InputInfo
	Targets                              []string
	SVG                                  template.HTML
	SVGError                             string
	DOT                                  string
	Sections                             []debugSection
}

type debugSection struct {
	Title string
	Runs  []debugRun
}

type debugRun struct {
	RunID, Version, When, Duration, Status string
	Waterfall                              template.HTML
}

// handleDebug serves the debug page: each graph's picture and its recent
// runs worth a look (slowest, with fallbacks, with failures) as
// waterfalls, drawn by package viz.
func (s *Server) handleDebug(w http.ResponseWriter, r *http.Request) {
	set := s.acquire()
	defer set.release()
	data := struct {
		InFlight int64
		Draining bool
		Now      string
		Graphs   []debugGraph
	}{InFlight: s.inFlight.Load(), Draining: s.draining.Load(), Now: time.Now().UTC().Format(time.RFC3339)}
	for _, name := range set.names {
		sv := set.byName[name]
		gi := s.info(sv, false)
		dg := debugGraph{Name: gi.Name, Version: gi.Version, Description: gi.Description,
			Deadline: sv.ex.RunTimeout().String(), Inputs: gi.Inputs, Targets: gi.Targets}
		if svg, err := sv.pics.svg(r.Context(), sv.g); err == nil {
			dg.SVG = inlineSVG(svg)
		} else {
			dg.SVGError = err.Error()
			dot, _ := sv.pics.dot(sv.g)
			dg.DOT = string(dot)
		}
		if sv.recent != nil {
			slowest, fallbacks, failures := sv.recent.snapshot()
			dg.Sections = []debugSection{
				{Title: "Slowest runs", Runs: debugRuns(slowest)},
				{Title: "Latest runs with fallbacks", Runs: debugRuns(fallbacks)},
				{Title: "Latest runs with failures", Runs: debugRuns(failures)},
			}
		}
		data.Graphs = append(data.Graphs, dg)
	}
	var buf bytes.Buffer
	if err := debugPage.Execute(&buf, data); err != nil {
		writeError(w, http.StatusInternalServerError, "", "the debug page: "+err.Error())
		return
	}
	w.Header().Set("Cache-Control", "no-store")
	writeBytes(w, "text/html; charset=utf-8", buf.Bytes())
}

func debugRuns(runs []recentRun) []debugRun {
	out := make([]debugRun, 0, len(runs))
	for _, run := range runs {
		dr := debugRun{RunID: run.RunID, Version: run.Version, When: run.When.UTC().Format(time.RFC3339Nano),
			Duration: run.Duration.Round(time.Microsecond).String(), Status: strconv.Itoa(run.Status) + " " + http.StatusText(run.Status)}
		var buf bytes.Buffer
		if err := viz.WriteWaterfallSVG(&buf, run.Record); err == nil {
			dr.Waterfall = inlineSVG(buf.Bytes())
		}
		out = append(out, dr)
	}
	return out
}

// inlineSVG drops what comes before <svg (the XML declaration, doctype
// and comments Graphviz writes) so that the SVG can sit inside HTML. The
// SVG comes from viz or Graphviz, whose labels are escaped.
func inlineSVG(svg []byte) template.HTML {
	if i := bytes.Index(svg, []byte("<svg")); i > 0 {
		svg = svg[i:]
	}
	return template.HTML(svg) // #nosec: made by viz and Graphviz, which escape every label
}
