"""Evidence: each school's indicators (results against national, gaps, absence, Ofsted), as the Strategy names them."""
