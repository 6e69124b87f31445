package serve

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/featgraph/featgraph/executor"
	"github.com/featgraph/featgraph/fetchers"
	"github.com/featgraph/featgraph/graph"
	"github.com/featgraph/featgraph/viz"
)

// GraphInfo describes a served graph: GET /v1/graphs lists them (without
// nodes) and GET /v1/graphs/{name} gives one.
type GraphInfo struct {
	Name        string      `json:"name"`
	Version     string      `json:"version"`
	Description string      `json:"description,omitempty"`
	File        string      `json:"file,omitempty"`
	DeadlineMS  float64     `json:"deadline_ms"`
	Inputs      []InputInfo `json:"inputs"`
	Targets     []string    `json:"targets"`
	Nodes       []NodeInfo  `json:"nodes,omitempty"`
}

// InputInfo is one input of a graph: what a decide's body must hold.
type InputInfo struct {
	Name        string `json:"name"`
	Type        string `json:"type"`
	Description string `json:"description,omitempty"`
}

// NodeInfo is one node of a graph.
type NodeInfo struct {
	Name        string   `json:"name"`
	Kind        string   `json:"kind"`
	Deps        []string `json:"deps,omitempty"`
	Lazy        []string `json:"lazy,omitempty"`
	TimeoutMS   float64  `json:"timeout_ms,omitempty"`
	Fallback    bool     `json:"fallback,omitempty"`
	Upstream    string   `json:"upstream,omitempty"`
	Description string   `json:"description,omitempty"`
}

// GraphList is the answer to GET /v1/graphs.
type GraphList struct {
	Graphs []GraphInfo `json:"graphs"`
}

func (s *Server) info(sv *served, nodes bool) GraphInfo {
	deadline := sv.ex.RunTimeout()
	gi := GraphInfo{Name: sv.name, Version: sv.version, Description: sv.description, File: sv.file,
		DeadlineMS: ms(deadline), Targets: sv.Graph.targets, Inputs: make([]InputInfo, 0, len(sv.inputs))}
	for _, in := range sv.inputs {
		gi.Inputs = append(gi.Inputs, InputInfo{Name: in.name, Type: in.typ, Description: in.description})
	}
	if nodes {
		for i := range sv.g.Len() {
			sh := executor.ShapeOf(sv.g, graph.NodeID(i))
			gi.Nodes = append(gi.Nodes, NodeInfo{Name: sh.Name, Kind: sh.Kind.String(), Deps: sh.Deps, Lazy: sh.Lazy,
				TimeoutMS: ms(sh.Timeout), Fallback: sh.HasFallback, Upstream: sh.Meta[fetchers.MetaUpstream], Description: sh.Description})
		}
	}
	return gi
}

func (s *Server) handleList(w http.ResponseWriter, r *http.Request) {
	set := s.acquire()
	defer set.release()
	out := GraphList{Graphs: make([]GraphInfo, 0, len(set.names))}
	for _, name := range set.names {
		out.Graphs = append(out.Graphs, s.info(set.byName[name], false))
	}
	writeJSON(w, http.StatusOK, &out)
}

// lookup finds the graph named in the path, answering 404 itself.
func (s *Server) lookup(w http.ResponseWriter, r *http.Request) (*served, *graphSet) {
	set := s.acquire()
	sv := set.byName[r.PathValue("name")]
	if sv == nil {
		set.release()
		writeError(w, http.StatusNotFound, "", fmt.Sprintf("no graph %q", r.PathValue("name")))
		return nil, nil
	}
	return sv, set
}

func (s *Server) handleDescribe(w http.ResponseWriter, r *http.Request) {
	sv, set := s.lookup(w, r)
	if sv == nil {
		return
	}
	defer set.release()
	gi := s.info(sv, true)
	writeJSON(w, http.StatusOK, &gi)
}

func (s *Server) handleDOT(w http.ResponseWriter, r *http.Request) {
	sv, set := s.lookup(w, r)
	if sv == nil {
		return
	}
	defer set.release()
	dot, err := sv.pics.dot(sv.g)
	if err != nil {
		writeError(w, http.StatusInternalServerError, "", err.Error())
		return
	}
	writeBytes(w, "text/vnd.graphviz; charset=utf-8", dot)
}

func (s *Server) handleSVG(w http.ResponseWriter, r *http.Request) {
	sv, set := s.lookup(w, r)
	if sv == nil {
		return
	}
	defer set.release()
	svg, err := sv.pics.svg(r.Context(), sv.g)
	if err != nil {
		code := http.StatusInternalServerError
		if errors.Is(err, viz.ErrNoGraphviz) {
			code = http.StatusNotImplemented
		}
		writeError(w, code, "", err.Error())
		return
	}
	writeBytes(w, "image/svg+xml", svg)
}

func writeBytes(w http.ResponseWriter, contentType string, b []byte) {
	w.Header().Set("Content-Type", contentType)
	w.Header().Set("Content-Length", strconv.Itoa(len(b)))
	_, _ = w.Write(b) // the client went away: nothing to do
}

// pictures caches a graph's DOT and SVG: a graph never changes, so each is
// made once (a failed rendering is tried again next time).
type pictures struct {
	mu       sync.Mutex
	dotBytes []byte
	svgBytes []byte
}

func (p *pictures) dot(g *graph.Graph) ([]byte, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.dotBytes == nil {
		var buf bytes.Buffer
		if err := viz.WriteGraphDOT(&buf, g); err != nil {
			return nil, err
		}
		p.dotBytes = buf.Bytes()
	}
	return p.dotBytes, nil
}

func (p *pictures) svg(ctx context.Context, g *graph.Graph) ([]byte, error) {
	dot, err := p.dot(g)
	if err != nil {
		return nil, err
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.svgBytes == nil {
		// Rendering does not depend on the caller: a request that goes away
		// does not waste the work for the next one.
		rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
		defer cancel()
		svg, err := viz.RenderSVG(rctx, dot)
		if err != nil {
			return nil, err
		}
		p.svgBytes = svg
	}
	return p.svgBytes, nil
}
