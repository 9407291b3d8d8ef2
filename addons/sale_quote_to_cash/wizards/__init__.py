from . import sale_q2c_accept_wizard
