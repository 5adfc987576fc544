/* PLACEHOLDER: to be written (issue 2). */
