#!/usr/bin/env python3
"""Write a fixture world's fact sentences, one per line, as a statistics corpus.

Not a test: the corpus behind docs/fixture.md's "The statistics corpus decides how far
MEMIT spills". Every fact of MODEL/requests/world.json under each of its relation's training
templates ("{subject} lives in {object}"), one document per line, so each starts at
<bos> as the edit and suite prompts do. Held-out templates are left out: they measure
paraphrase generalisation and must not shape the edit.

A world whose config sets editing.statistics_corpus to fact_sentences (fixtures/wide)
gets the same corpus from editgate itself (fixtures/fixture_corpus.cpp); this script is
for comparing corpora on worlds that do not.

Usage: python3 tests/editors/fact_sentence_corpus.py MODEL OUT.txt
then: editgate edit --corpus OUT.txt ...  or  EDITGATE_MEMIT_CORPUS=OUT.txt editors_tests ...
"""
import json
import sys


def main(model_dir, out_file):
    world = json.load(open(model_dir + "/requests/world.json"))
    names = {e["id"]: e["name"] for e in world["entities"]}
    relations = world["config"]["relations"]
    with open(out_file, "w") as out:
        for fact in world["facts"]:
            for template in relations[fact["relation"]]["train"]:
                out.write(template.replace("{}", names[fact["subject_id"]]) + " " + names[fact["object_id"]] + "\n")


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
