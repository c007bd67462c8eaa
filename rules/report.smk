# The report's pages: every table a reader looks at as HTML (Snakemake's report shows HTML
# in the page but only offers a TSV for download), and the summary page whose headline
# block report/workflow.rst puts on the landing page.


rule render_report_tables:
    input:
        **get_report_tables(),
    output:
        **get_report_table_outputs(),
    log:
        "logs/render_report_tables/render_report_tables.log",
    benchmark:
        "benchmarks/render_report_tables/render_report_tables.tsv"
    conda:
        "../envs/evaluate.yaml"
    threads: 1
    resources:
        mem_mb=1000,
        runtime=10,
    params:
        titles=get_report_table_titles(),
    script:
        "../workflow_scripts/render_report_tables.py"


rule render_report_summary:
    input:
        unpack(get_report_summary_inputs),
    output:
        page=report(
            "results/report/summary.html",
            caption="../report/summary.rst",
            category="At a glance",
            labels={"page": "Headline results, clip counts, provenance, config"},
        ),
        headline="results/report/headline.html",
    log:
        "logs/render_report_summary/render_report_summary.log",
    benchmark:
        "benchmarks/render_report_summary/render_report_summary.tsv"
    conda:
        "../envs/evaluate.yaml"
    threads: 1
    resources:
        mem_mb=1000,
        runtime=10,
    script:
        "../workflow_scripts/render_report_summary.py"
